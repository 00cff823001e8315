"""`logprobs` on Hearth's API: OpenAI's shapes for chat and completions, streamed too, and bad values refused."""

from __future__ import annotations

import json
import math

import httpx
import pytest


def test_chat_logprobs_without_alternatives_and_none_when_not_asked(served):
    url, _engine, _app = served
    request = {"messages": [{"role": "user", "content": "Say hi"}], "temperature": 0, "max_tokens": 6}
    plain = httpx.post(url + "/v1/chat/completions", json=request, timeout=60).json()["choices"][0]
    assert plain["logprobs"] is None
    asked = httpx.post(url + "/v1/chat/completions", json=request | {"logprobs": True}, timeout=60).json()
    steps = asked["choices"][0]["logprobs"]["content"]
    assert len(steps) == asked["usage"]["completion_tokens"] == 6
    assert "".join(s["token"] for s in steps) == asked["choices"][0]["message"]["content"]
    assert all(s["top_logprobs"] == [] and s["logprob"] <= 0 and bytes(s["bytes"]).decode() == s["token"]
               for s in steps)


def test_completion_logprobs_in_the_legacy_shape_whole_and_streamed(served):
    url, _engine, _app = served
    request = {"prompt": "The capital of France is", "temperature": 0, "max_tokens": 5, "logprobs": 3}
    whole = httpx.post(url + "/v1/completions", json=request, timeout=60).json()["choices"][0]
    lp = whole["logprobs"]
    assert "".join(lp["tokens"]) == whole["text"]
    assert [len(t) for t in lp["top_logprobs"]] == [3] * 5
    for token, logprob, top in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"], strict=True):
        assert top[token] == pytest.approx(logprob)  # greedy: the picked token is the best one
        assert max(top.values()) == pytest.approx(logprob) and math.exp(logprob) <= 1
    assert lp["text_offset"] == [sum(len(t) for t in lp["tokens"][:i]) for i in range(5)]
    tokens, offsets = [], []
    with httpx.stream("POST", url + "/v1/completions", json=request | {"stream": True}, timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                part = json.loads(line[6:])["choices"][0]["logprobs"]
                if part:
                    tokens += part["tokens"]
                    offsets += part["text_offset"]
    assert (tokens, offsets) == (lp["tokens"], lp["text_offset"])


@pytest.mark.parametrize("fields, param", [
    ({"top_logprobs": 3}, "top_logprobs"),
    ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({"logprobs": "yes"}, "logprobs"),
])
def test_bad_logprobs_fields_get_a_400_that_names_them(served, fields, param):
    url, _engine, _app = served
    r = httpx.post(url + "/v1/chat/completions", timeout=60,
                   json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2} | fields)
    assert r.status_code == 400 and r.json()["error"]["param"] == param
    r = httpx.post(url + "/v1/completions", json={"prompt": "hi", "logprobs": 21}, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["param"] == "logprobs"
