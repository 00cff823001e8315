"""The remote engine against scripted HTTP answers: errors in plain words, retries, SSE parsing."""

from __future__ import annotations

import json

import httpx
import pytest

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, StopReason
from app.engine.remote import RemoteEngine, normalize_base_url, sampling_fields
from app.engine.sampling import SamplingParams
from tests.support.servers import free_port

HELLO = [ChatMessage("user", "hello")]
MODELS = {"object": "list", "data": [{"id": "big-model", "object": "model"}]}


def sse(*payloads, done=True) -> bytes:
    lines = [f"data: {json.dumps(x)}\n\n" for x in payloads] + (["data: [DONE]\n\n"] if done else [])
    return "".join(lines).encode()


def delta(content=None, reasoning=None, finish=None) -> dict:
    d = {}
    if content is not None:
        d["content"] = content
    if reasoning is not None:
        d["reasoning_content"] = reasoning
    return {"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def engine_for(handler, **kw) -> RemoteEngine:
    waits: list[float] = []
    engine = RemoteEngine("http://box:8000/v1", api_key=kw.pop("api_key", None), transport=httpx.MockTransport(handler),
                          sleep=waits.append, **kw)
    engine.waits = waits
    return engine


def serving(chat_reply, seen=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path == "/v1/models":
            return httpx.Response(200, json=MODELS)
        if request.url.path == "/v1/chat/completions":
            return chat_reply(request)
        return httpx.Response(404, json={"error": {"message": "not here"}})
    return handler


def test_base_urls_are_normalized():
    assert normalize_base_url("box:8080") == "http://box:8080"
    assert normalize_base_url("https://box/api/v1/") == "https://box/api"
    with pytest.raises(EngineError):
        normalize_base_url("ftp://box")


def test_streamed_reply_usage_reasoning_and_sampling_fields():
    seen: list[httpx.Request] = []
    body = sse(delta(reasoning="think"), delta(content="Hi"), delta(content=" there", finish="stop"),
               {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}})
    with engine_for(serving(lambda r: httpx.Response(200, content=body), seen), api_key="k") as engine:
        info = engine.load(LoadOptions(path=""))
        assert info.path == "big-model" and "box:8000" in info.name
        sampling = SamplingParams(temperature=0.0, top_k=5, min_p=0.1, repeat_penalty=1.2, seed=3, max_tokens=9)
        events = list(engine.chat(HELLO, sampling))
    tokens = [(e.reasoning, e.text) for e in events if isinstance(e, p.Token)]
    assert tokens == [("think", ""), ("", "Hi"), ("", " there")]  # thinking apart, as from the local engine
    done = events[-1]
    assert isinstance(done, p.Done) and done.text == "Hi there" and done.reasoning == "think"
    assert (done.stats.prompt_tokens, done.stats.completion_tokens) == (7, 2)
    assert done.stats.stop_reason == StopReason.EOS
    sent = json.loads(seen[-1].content)
    assert sent["stream"] is True and sent["model"] == "big-model"
    assert {k: sent[k] for k in ("temperature", "top_k", "min_p", "repeat_penalty", "seed", "max_tokens")} == \
        {"temperature": 0.0, "top_k": 5, "min_p": 0.1, "repeat_penalty": 1.2, "seed": 3, "max_tokens": 9}
    assert seen[-1].headers["authorization"] == "Bearer k"


def test_a_strict_server_gets_no_extensions_on_the_retry():
    seen: list[httpx.Request] = []

    def reply(request):
        if "top_k" in json.loads(request.content):
            return httpx.Response(400, json={"error": {"message": "Unrecognized request argument: top_k"}})
        return httpx.Response(200, content=sse(delta(content="ok", finish="stop")))

    with engine_for(serving(reply, seen)) as engine:
        engine.load(LoadOptions(path="big-model"))
        assert list(engine.chat(HELLO))[-1].text == "ok"
    assert "top_k" not in json.loads(seen[-1].content)
    assert sampling_fields(SamplingParams(), extensions=False).keys().isdisjoint({"top_k", "min_p", "repeat_penalty"})


def test_refused_connection_is_plain():
    engine = RemoteEngine(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(EngineError) as info:
        engine.load(LoadOptions(path="x"))
    assert info.value.kind == ErrorKind.CONNECTION and "could not connect" in info.value.message


@pytest.mark.parametrize("status, kind, words", [(401, ErrorKind.AUTH, "API key"), (403, ErrorKind.AUTH, "API key")])
def test_auth_failures_are_plain(status, kind, words):
    with engine_for(lambda r: httpx.Response(status, json={"error": {"message": "no"}})) as engine:
        with pytest.raises(EngineError) as info:
            engine.models()
    assert info.value.kind == kind and words in info.value.message


def test_unknown_model_is_plain():
    with engine_for(serving(lambda r: httpx.Response(404))) as engine:
        with pytest.raises(EngineError) as info:
            engine.load(LoadOptions(path="small-model"))
    assert info.value.kind == ErrorKind.NO_MODEL and "small-model" in info.value.message
    assert "big-model" in info.value.message


def test_429_and_5xx_are_retried_a_bounded_number_of_times():
    answers = iter([httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(503),
                    httpx.Response(200, content=sse(delta(content="late", finish="stop")))])
    with engine_for(serving(lambda r: next(answers))) as engine:
        engine.load(LoadOptions(path="big-model"))
        assert list(engine.chat(HELLO))[-1].text == "late"
        assert engine.waits == [2.0, 1.0]
    with engine_for(serving(lambda r: httpx.Response(500))) as engine:
        engine.load(LoadOptions(path="big-model"))
        events = list(engine.chat(HELLO))
        assert len(engine.waits) == 2  # three tries in all
    assert isinstance(events[-1], p.Error) and "HTTP 500" in events[-1].message


def test_timeout_is_plain():
    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    with engine_for(serving(slow)) as engine:
        engine.load(LoadOptions(path="big-model"))
        error = list(engine.chat(HELLO))[-1]
    assert isinstance(error, p.Error) and "timed out" in error.message


def test_a_stream_cut_mid_reply_keeps_the_partial_reply():
    cut = sse(delta(content="Once upon"), delta(content=" a time"), done=False)
    with engine_for(serving(lambda r: httpx.Response(200, content=cut))) as engine:
        engine.load(LoadOptions(path="big-model"))
        error = list(engine.chat(HELLO))[-1]
    assert isinstance(error, p.Error) and error.kind == ErrorKind.CONNECTION
    assert error.partial == "Once upon a time" and "cut mid-reply" in error.message


def test_counts_are_estimated_and_flagged_when_the_server_cannot_tell():
    with engine_for(serving(lambda r: httpx.Response(404))) as engine:
        engine.load(LoadOptions(path="big-model"))
        result = engine.count(HELLO, draft="and more")
    assert result.estimated and result.prompt_tokens > 0


def test_counts_are_exact_with_apply_template_and_tokenize():
    def handler(request):
        if request.url.path == "/apply-template":
            return httpx.Response(200, json={"prompt": "<user>hello"})
        if request.url.path == "/tokenize":
            assert json.loads(request.content)["content"] == "<user>hello"
            return httpx.Response(200, json={"tokens": [1, 2, 3]})
        return serving(lambda r: httpx.Response(404))(request)

    with engine_for(handler) as engine:
        engine.load(LoadOptions(path="big-model"))
        result = engine.count(HELLO)
    assert (result.prompt_tokens, result.estimated) == (3, False)
