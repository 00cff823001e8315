"""`tool_choice: "required"` and a named function are enforced, as llama-server enforces them: a grammar
(server/tool_grammar.py) makes the reply a call, which comes back as `tool_calls` with finish_reason
"tool_calls", content null, streamed as `delta.tool_calls`. Driven by the official openai client over a
scripted model (with `hearth serve --parallel 2`'s batch too) and the real Qwen2.5-Coder-0.5B."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.engine import EngineClient, LoadOptions
from app.server.tool_grammar import call_grammar, forced_calls
from app.server.tool_requests import parse_tool_options
from tests.support.real_models import test_models_dir as models_dir
from tests.support.servers import uvicorn_thread
from tests.support.tool_model import TOOLS, write_weather_model

openai = pytest.importorskip("openai", reason="the openai client is a test dependency (pip install -e .[test])")
QWEN = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
HELLO = [{"role": "user", "content": "Hi, say hello briefly."}]
GET_TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The time in a time zone",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}}
NAMED_TIME = {"type": "function", "function": {"name": "get_time"}}


def _serve(path: Path, n_parallel: int = 1, n_ctx: int = 2048):
    from app.server.app import create_app

    with EngineClient() as engine:
        engine.load(LoadOptions(path=str(path), n_ctx=n_ctx, n_gpu_layers=0, n_parallel=n_parallel, n_threads=2))
        with uvicorn_thread(create_app(engine, "model")) as base:
            yield openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=120)


def _streamed(api, **request) -> tuple[str, list[tuple[str, dict]], str | None]:
    chunks = [c for c in api.chat.completions.create(model="model", stream=True, **request) if c.choices]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    calls = [(d.function.name, json.loads(d.function.arguments)) for c in chunks for d in
             (c.choices[0].delta.tool_calls or [])]
    return text, calls, chunks[-1].choices[0].finish_reason


def test_only_a_forced_choice_gets_a_grammar_and_its_reply_is_read_as_calls() -> None:
    assert call_grammar(parse_tool_options({"tools": TOOLS})) == ""
    assert call_grammar(parse_tool_options({"tools": TOOLS, "tool_choice": "none"})) == ""
    required = parse_tool_options({"tools": [*TOOLS, GET_TIME], "tool_choice": "required"})
    grammar = call_grammar(required)
    assert '"\\"get_weather\\""' in grammar and '"\\"get_time\\""' in grammar and "root ::= " in grammar
    named = parse_tool_options({"tools": [*TOOLS, GET_TIME], "tool_choice": NAMED_TIME})
    assert '"\\"get_time\\""' in call_grammar(named) and "get_weather" not in call_grammar(named)
    weather = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    time = '{"name": "get_time", "arguments": {"zone": "UTC"}}'
    assert [c.name for c in forced_calls(f"[{weather}, {time}]", required)] == ["get_weather", "get_time"]
    assert [c.name for c in forced_calls(f"<tool_call>\n{weather}\n</tool_call>\n<tool_call>{time}</tool_call>",
                                         required)] == ["get_weather", "get_time"]
    single = parse_tool_options({"tools": [*TOOLS, GET_TIME], "tool_choice": "required", "parallel_tool_calls": False})
    assert "[" not in call_grammar(single).split("root ::= ")[1].splitlines()[0]  # one call only
    assert forced_calls(f"[{weather}, {time}]", single) == ()
    assert forced_calls("Hello!", required) == () and forced_calls(weather, named) == ()  # not the named one


@pytest.fixture(scope="module", params=[1, 2], ids=["alone", "parallel-2"])
def scripted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The weather model (it writes its call in <tool_call> tags) behind Hearth's server."""
    yield from _serve(write_weather_model(tmp_path_factory.mktemp("choice") / "weather.gguf"), request.param)


def test_a_scripted_models_forced_call_whole_and_streamed(scripted) -> None:
    for choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        answer = scripted.chat.completions.create(model="model", messages=HELLO, tools=TOOLS, temperature=0,
                                                  tool_choice=choice)
        message = answer.choices[0].message
        assert answer.choices[0].finish_reason == "tool_calls" and message.content is None
        assert [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [
            ("get_weather", {"city": "Paris"})]
        text, calls, finish = _streamed(scripted, messages=HELLO, tools=TOOLS, temperature=0, tool_choice=choice)
        assert (text, calls, finish) == ("", [("get_weather", {"city": "Paris"})], "tool_calls")


@pytest.fixture(scope="module")
def qwen():
    path = models_dir() / QWEN
    if not path.is_file():
        pytest.skip(f"the real Qwen2.5-Coder-0.5B-Instruct file is not in {models_dir()}")
    yield from _serve(path, n_ctx=1024)


def test_a_real_model_asked_to_say_hello_calls_the_tool_when_it_must(qwen) -> None:
    asked = {"messages": HELLO, "temperature": 0, "max_tokens": 48}
    # auto, as before: it writes {"name": "hello", "arguments": {"message": "Hello, …"}}, no offered tool: text
    free = qwen.chat.completions.create(model="model", tools=TOOLS, **asked)
    assert free.choices[0].finish_reason == "stop" and not free.choices[0].message.tool_calls
    assert "hello" in free.choices[0].message.content.lower()
    required = qwen.chat.completions.create(model="model", tools=TOOLS, tool_choice="required", **asked)
    message = required.choices[0].message
    assert required.choices[0].finish_reason == "tool_calls" and message.content is None
    [call] = message.tool_calls
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments)["city"], str)
    named = qwen.chat.completions.create(model="model", tools=[*TOOLS, GET_TIME], tool_choice=NAMED_TIME, **asked)
    assert named.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in named.choices[0].message.tool_calls] == ["get_time"]
    text, calls, finish = _streamed(qwen, tools=TOOLS, tool_choice="required", **asked)
    assert text == "" and finish == "tool_calls" and [name for name, _ in calls] == ["get_weather"]
