"""A remote chat follows the chat's overflow policy, like a local one: counted exactly where the server
offers /apply-template + /tokenize (llama-server), estimated elsewhere. A real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, ErrorKind, LoadOptions, OverflowPolicy
from app.engine.remote import RemoteEngine
from tests.support.servers import uvicorn_thread

N_CTX = 64  # the reply's reserve is 16 of these: the history may use 48


def small_server(can_tokenize: bool):
    """A server with a 64-token context that answers how many messages it was sent; with `can_tokenize`
    it counts one token per word of the rendered prompt, as llama-server counts its own tokens."""
    received: list[list[dict]] = []

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "small", "object": "model"}]})

    async def props(request: Request) -> Response:
        return JSONResponse({"default_generation_settings": {"n_ctx": N_CTX}})

    async def apply_template(request: Request) -> Response:
        if not can_tokenize:
            return Response(status_code=404)
        body = await request.json()
        return JSONResponse({"prompt": " ".join(f"{m['role']}: {m['content']}" for m in body["messages"])})

    async def tokenize(request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"tokens": list(range(len(body["content"].split())))})

    async def chat(request: Request) -> Response:
        messages = (await request.json())["messages"]
        received.append(messages)
        chunk = {"choices": [{"index": 0, "delta": {"content": f"{len(messages)} messages"}, "finish_reason": "stop"}]}
        return Response(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n", media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/models", models), Route("/props", props),
                            Route("/apply-template", apply_template, methods=["POST"]),
                            Route("/tokenize", tokenize, methods=["POST"]),
                            Route("/v1/chat/completions", chat, methods=["POST"])])
    return app, received


def history(turns: int) -> list[ChatMessage]:
    """A system prompt and `turns` user/assistant pairs of ten words each, then a new question."""
    messages = [ChatMessage("system", "Be brief.")]
    for n in range(turns):
        messages += [ChatMessage("user", f"question {n} " + "word " * 8),
                     ChatMessage("assistant", f"answer {n} " + "word " * 8)]
    return messages + [ChatMessage("user", "and the last question?")]


@pytest.mark.parametrize("can_tokenize", [True, False], ids=["exact", "estimated"])
def test_truncate_middle_drops_the_oldest_messages_to_fit(can_tokenize):
    app, received = small_server(can_tokenize)
    with uvicorn_thread(app) as url, RemoteEngine(url) as engine:
        info = engine.load(LoadOptions(path="small"))
        assert info.n_ctx == N_CTX
        messages = history(6)
        counted = engine.count(messages, overflow=OverflowPolicy.TRUNCATE_MIDDLE)
        assert counted.estimated is (not can_tokenize)
        assert counted.untrimmed_tokens > N_CTX and counted.prompt_tokens <= N_CTX - 16 and counted.dropped_messages > 0
        done = list(engine.chat(messages, overflow=OverflowPolicy.TRUNCATE_MIDDLE))[-1]
    assert isinstance(done, p.Done), done
    sent = received[-1]
    assert sent[0] == {"role": "system", "content": "Be brief."}  # the system prompt stays
    assert sent[-1]["content"] == "and the last question?"  # and the newest message
    assert len(sent) == len(messages) - counted.dropped_messages
    assert done.stats.dropped_messages == counted.dropped_messages


def test_rolling_window_drops_whole_turns():
    app, received = small_server(can_tokenize=True)
    with uvicorn_thread(app) as url, RemoteEngine(url) as engine:
        engine.load(LoadOptions(path="small"))
        done = list(engine.chat(history(6), overflow=OverflowPolicy.ROLLING_WINDOW))[-1]
    assert isinstance(done, p.Done) and done.stats.dropped_messages % 2 == 0 and done.stats.dropped_messages > 0
    assert [m["role"] for m in received[-1]][:2] == ["system", "user"]  # a turn starts with the user


def test_stop_refuses_a_history_that_does_not_fit_without_sending_it():
    app, received = small_server(can_tokenize=True)
    with uvicorn_thread(app) as url, RemoteEngine(url) as engine:
        engine.load(LoadOptions(path="small"))
        error = list(engine.chat(history(6), overflow=OverflowPolicy.STOP))[-1]
        assert isinstance(error, p.Error) and error.kind == ErrorKind.CONTEXT_OVERFLOW
        assert "context holds 64" in error.message
        assert received == []
        done = list(engine.chat(history(1), overflow=OverflowPolicy.STOP))[-1]  # a short one is sent whole
    assert isinstance(done, p.Done) and len(received[-1]) == 4
