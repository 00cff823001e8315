"""`hearth serve` over a remote engine: the calls the remote server parsed (its `delta.tool_calls`,
Done.tool_calls) reach the client as `tool_calls` with finish_reason "tool_calls", whole or streamed,
checked with the official openai client against a fake OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from app.engine.protocol import LoadOptions
from app.engine.remote import RemoteEngine
from tests.support.servers import uvicorn_thread
from tests.support.tool_model import TOOLS

openai = pytest.importorskip("openai", reason="the openai client is a test dependency (pip install -e .[test])")
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
ARGUMENTS = '{"city": "Paris"}'


def _chunk(delta: dict, finish: str | None = None) -> str:
    return "data: " + json.dumps({"id": "r1", "object": "chat.completion.chunk", "created": 1, "model": "remote",
                                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"


def fake_remote() -> Starlette:
    """A server that, offered tools, streams a short text and one parsed call in pieces (as llama-server
    --jinja does); without tools, plain text."""
    seen: list[dict] = []

    async def chat(request: Request) -> StreamingResponse:
        body = await request.json()
        seen.append(body)

        def events():
            yield _chunk({"role": "assistant", "content": ""})
            if body.get("tools"):
                yield _chunk({"content": "Let me look."})
                yield _chunk({"tool_calls": [{"index": 0, "id": "call_7", "type": "function",
                                              "function": {"name": "get_weather", "arguments": ""}}]})
                yield _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ARGUMENTS}}]})
                yield _chunk({}, "tool_calls")
            else:
                yield _chunk({"content": "No tools here."})
                yield _chunk({}, "stop")
            yield "data: " + json.dumps({"id": "r1", "object": "chat.completion.chunk", "created": 1, "model": "remote",
                                         "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4,
                                                                  "total_tokens": 13}}) + "\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def models(_request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "remote", "object": "model"}]})

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                            Route("/v1/models", models)])
    app.state.seen = seen
    return app


@pytest.fixture(scope="module")
def url():
    from app.server.app import create_app

    remote = fake_remote()
    with uvicorn_thread(remote) as remote_url, RemoteEngine(remote_url) as engine:
        engine.load(LoadOptions(path=""))
        with uvicorn_thread(create_app(engine, "remote")) as base:
            yield base


def client(url: str):
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=30)


def test_the_remote_servers_calls_come_back_as_tool_calls(url: str) -> None:
    reply = client(url).chat.completions.create(model="remote", messages=QUESTION, tools=TOOLS)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me look."
    [call] = choice.message.tool_calls
    assert (call.id, call.type, call.function.name, call.function.arguments) == (
        "call_7", "function", "get_weather", ARGUMENTS)


def test_streamed_they_arrive_as_delta_tool_calls(url: str) -> None:
    chunks = list(client(url).chat.completions.create(model="remote", messages=QUESTION, tools=TOOLS, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    deltas = [d for c in chunks if c.choices for d in (c.choices[0].delta.tool_calls or [])]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert text == "Let me look."
    assert [(d.index, d.id, d.function.name, d.function.arguments) for d in deltas] == [
        (0, "call_7", "get_weather", ARGUMENTS)]
    assert finishes == ["tool_calls"]


def test_without_tools_or_with_tool_choice_none_it_is_text(url: str) -> None:
    api = client(url)
    plain = api.chat.completions.create(model="remote", messages=QUESTION)
    assert plain.choices[0].message.content == "No tools here." and plain.choices[0].finish_reason == "stop"
    assert not plain.choices[0].message.tool_calls
    none = api.chat.completions.create(model="remote", messages=QUESTION, tools=TOOLS, tool_choice="none")
    assert none.choices[0].finish_reason != "tool_calls" and not none.choices[0].message.tool_calls
