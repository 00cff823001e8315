"""Hearth's token probabilities equal llama-server's own `logprobs` for the same model, prompt and greedy reply.

Both read the raw logits of each step (llama-server's default, post_sampling_probs false). The server
runs with flash attention off, as Hearth loads a CPU-only model with an f16 KV cache (load_params):
with it on, the logits differ in the second decimal."""

from __future__ import annotations

import json

import httpx
import pytest

from app.engine import LoadOptions
from app.engine import protocol as p
from app.engine.protocol import ChatMessage
from app.engine.sampling import SamplingParams
from tests.support.servers import LlamaServer, llama_server_binary

QUESTION = "What is the capital of France?"
N_TOKENS = 16


@pytest.fixture(scope="module")
def servers_logprobs(smollm2):
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    server = LlamaServer(binary, smollm2)
    server.cmd += ["-fa", "off"]
    server.start()
    try:
        reply = httpx.post(server.url + "/v1/chat/completions", timeout=120, json={
            "messages": [{"role": "user", "content": QUESTION}], "temperature": 0, "max_tokens": N_TOKENS,
            "logprobs": True, "top_logprobs": 5}).json()
    finally:
        server.stop()
    return reply["choices"][0]


def assert_same_steps(ours: list[dict], theirs: list[dict]) -> None:
    """OpenAI-shaped logprobs lists: the same tokens, logprobs within 0.01, the same top alternatives."""
    assert [s["token"] for s in ours] == [s["token"] for s in theirs]
    for mine, own in zip(ours, theirs, strict=True):
        assert mine["logprob"] == pytest.approx(own["logprob"], abs=0.01)
        assert mine["bytes"] == own["bytes"]
        top_mine = {t["token"]: t["logprob"] for t in mine["top_logprobs"]}
        top_own = {t["token"]: t["logprob"] for t in own["top_logprobs"]}
        for token in top_mine.keys() & top_own.keys():
            assert top_mine[token] == pytest.approx(top_own[token], abs=0.01)
        # the fifth place may swap with a near tie; the best four never differ
        assert [t["token"] for t in mine["top_logprobs"]][:4] == [t["token"] for t in own["top_logprobs"]][:4]


def test_engine_probabilities_equal_llama_servers(engine, smollm2, servers_logprobs):
    engine.load(LoadOptions(str(smollm2), n_ctx=2048))
    sampling = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=N_TOKENS, top_logprobs=5)
    done = list(engine.chat([ChatMessage("user", QUESTION)], sampling))[-1]
    assert isinstance(done, p.Done)
    assert done.text == servers_logprobs["message"]["content"]
    ours = [{"token": s.chosen.text, "logprob": s.chosen.logprob, "bytes": list(s.chosen.piece),
             "top_logprobs": [{"token": c.text, "logprob": c.logprob} for c in s.top]} for s in done.probs]
    assert_same_steps(ours, servers_logprobs["logprobs"]["content"])


def test_hearth_serve_answers_the_same_logprobs_whole_and_streamed(engine, smollm2, servers_logprobs):
    from app.server.app import create_app
    from tests.support.servers import uvicorn_thread

    engine.load(LoadOptions(str(smollm2), n_ctx=2048))
    request = {"messages": [{"role": "user", "content": QUESTION}], "temperature": 0, "max_tokens": N_TOKENS,
               "logprobs": True, "top_logprobs": 5}
    with uvicorn_thread(create_app(engine, "smollm2")) as url:
        whole = httpx.post(url + "/v1/chat/completions", json=request, timeout=120).json()["choices"][0]
        streamed = []
        with httpx.stream("POST", url + "/v1/chat/completions", json=request | {"stream": True}, timeout=120) as r:
            for line in r.iter_lines():
                if line.startswith("data: {"):
                    chunk = json.loads(line[6:])["choices"][0]
                    streamed += (chunk["logprobs"] or {"content": []})["content"]
    assert whole["message"]["content"] == servers_logprobs["message"]["content"]
    assert whole["logprobs"]["refusal"] is None
    assert_same_steps(whole["logprobs"]["content"], servers_logprobs["logprobs"]["content"])
    assert streamed == whole["logprobs"]["content"]


def test_hearth_chat_json_logprobs_equal_the_servers(smollm2, servers_logprobs, capsys):
    from app import cli

    code = cli.main(["chat", QUESTION, "--model", str(smollm2), "--ctx", "2048", "--temperature", "0",
                     "--repeat-penalty", "1", "--max-tokens", str(N_TOKENS), "--json", "--logprobs", "5"])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["reply"] == servers_logprobs["message"]["content"]
    assert_same_steps(got["logprobs"], servers_logprobs["logprobs"]["content"])
