"""Tool calls through Hearth's server, driven by the official openai client: the server reads the
calls out of the reply and returns them; the client runs the tool and sends the result back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.engine import EngineClient, LoadOptions
from tests.support.servers import uvicorn_thread
from tests.support.tool_model import ANSWER, TOOLS, write_weather_model

openai = pytest.importorskip("openai", reason="the openai client is a test dependency (pip install -e .[test])")
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory):
    from app.server.app import create_app

    model = write_weather_model(Path(tmp_path_factory.mktemp("tools")) / "weather.gguf")
    with EngineClient() as engine:
        engine.load(LoadOptions(path=str(model), n_ctx=2048, n_gpu_layers=0))
        with uvicorn_thread(create_app(engine, "weather")) as base:
            yield base


def client(url: str):
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)


def test_a_call_then_its_result_then_the_answer(url: str) -> None:
    api = client(url)
    first = api.chat.completions.create(model="weather", messages=QUESTION, tools=TOOLS, temperature=0)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None  # as OpenAI's API: null, not "", for a reply of calls only
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    history = [*QUESTION, choice.message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": '{"sky": "sunny", "celsius": 18}'}]
    second = api.chat.completions.create(model="weather", messages=history, tools=TOOLS, temperature=0)
    assert second.choices[0].message.content == ANSWER
    assert second.choices[0].finish_reason == "stop"
    assert not second.choices[0].message.tool_calls


def test_streamed_calls_arrive_as_delta_tool_calls(url: str) -> None:
    stream = client(url).chat.completions.create(model="weather", messages=QUESTION, tools=TOOLS,
                                                 temperature=0, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    deltas = [d for c in chunks if c.choices for d in (c.choices[0].delta.tool_calls or [])]
    assert text == ""  # the call's own text never reaches the client as content
    assert [(d.index, d.function.name, json.loads(d.function.arguments)) for d in deltas] == [
        (0, "get_weather", {"city": "Paris"})]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_tool_choice_none_returns_the_text_and_bad_tools_are_refused(url: str) -> None:
    api = client(url)
    plain = api.chat.completions.create(model="weather", messages=QUESTION, tools=TOOLS, tool_choice="none",
                                        temperature=0)
    assert plain.choices[0].finish_reason == "stop"
    assert plain.choices[0].message.content.startswith("<tool_call>")
    for body, words in (
        ({"tools": [{"type": "function"}]}, "tools[0].function"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_time"}}}, "get_time"),
        ({"tool_choice": "required"}, "no 'tools'"),
        ({"tools": TOOLS, "parallel_tool_calls": "yes"}, "parallel_tool_calls"),
    ):
        answer = httpx.post(url + "/v1/chat/completions", json={"messages": QUESTION, **body}, timeout=30)
        assert answer.status_code == 400 and words in answer.json()["error"]["message"], body
    orphan = httpx.post(url + "/v1/chat/completions", timeout=30,
                        json={"messages": [*QUESTION, {"role": "tool", "content": "18"}]})
    assert orphan.status_code == 400 and "tool_call_id" in orphan.json()["error"]["message"]


def test_a_named_tool_choice_and_single_calls(url: str) -> None:
    answer = client(url).chat.completions.create(
        model="weather", messages=QUESTION, tools=TOOLS, temperature=0, parallel_tool_calls=False,
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert [c.function.name for c in answer.choices[0].message.tool_calls] == ["get_weather"]
