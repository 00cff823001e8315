"""Tools on a remote server: the offered tools and past calls sent in OpenAI's shape, the server's parsed
calls read back from its stream; end to end with a real llama-server (--jinja) and a real stdio MCP server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from app.chat.tool_loop import ToolLoop
from app.engine import protocol as p
from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.remote import RemoteEngine
from app.engine.remote_tools import StreamedCalls, tool_fields, with_tool_fields
from app.engine.sampling import SamplingParams
from app.tools.config import ServerConfig
from app.tools.mcp_client import HubToolBox, McpHub
from app.tools.permissions import Decision, Grants
from tests.support.servers import LlamaServer, llama_server_binary
from tests.support.tool_model import ANSWER, TOOLS, write_weather_model

ROOT = Path(__file__).resolve().parents[2]


def test_calls_come_together_from_their_pieces_and_bad_pieces_are_left_out() -> None:
    calls = StreamedCalls()
    for piece in ([{"index": 0, "id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}],
                  [{"index": 0, "function": {"arguments": '{"city": '}}],
                  [{"index": 1, "id": "c2", "function": {"name": "get_time"}}],
                  [{"index": 0, "function": {"arguments": '"Paris"}'}}],
                  ["junk", {"index": "x"}, {"index": 10**9, "function": {"name": "far"}}, {"index": 2}]):
        calls.take({"choices": [{"delta": {"tool_calls": piece}}]})
    calls.take({"choices": "not a list"})
    assert calls.result() == (("c1", "get_weather", '{"city": "Paris"}'), ("c2", "get_time", "{}"))


def test_tools_and_past_calls_are_sent_in_openai_shape() -> None:
    assert tool_fields(json.dumps(TOOLS)) == {"tools": TOOLS} and tool_fields("") == {} == tool_fields("[")
    call = ChatMessage("assistant", "", tool_calls=(("c1", "get_weather", '{"city": "Paris"}'),))
    assert with_tool_fields({"role": "assistant", "content": ""}, call)["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    assert with_tool_fields({"role": "tool", "content": "Sunny"}, ChatMessage("tool", "Sunny", tool_call_id="c1")) == {
        "role": "tool", "content": "Sunny", "tool_call_id": "c1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    model = write_weather_model(tmp_path_factory.mktemp("remote-tools") / "weather.gguf")
    running = LlamaServer(binary, model)
    running.cmd.append("--jinja")
    yield running.start()
    running.stop()


def test_a_remote_model_calls_an_mcp_tool_and_answers_from_its_result(server, tmp_path: Path) -> None:
    weather = ServerConfig("weather", command=sys.executable, args=("-m", "tests.support.mcp_weather"),
                           env={"PYTHONPATH": str(ROOT)})
    with RemoteEngine(server.url) as engine, McpHub([weather]) as hub:
        engine.load(LoadOptions(path=""))
        events = list(engine.chat([ChatMessage("user", "Weather in Paris?")], SamplingParams(temperature=0),
                                  tools=json.dumps(TOOLS)))
        done = events[-1]
        assert isinstance(done, p.Done) and [(name, json.loads(arguments)) for _, name, arguments in done.tool_calls] \
            == [("get_weather", {"city": "Paris"})]
        assert done.text == ""  # the server took the call out of the text
        asked = []
        loop = ToolLoop(engine, HubToolBox(hub), Grants(None),
                        lambda call, server: (asked.append((call.name, server)) or (Decision.ONCE, call.arguments)))
        result = loop.reply([ChatMessage("user", "What is the weather in Paris?")], SamplingParams(temperature=0))
    assert asked == [("get_weather", "weather")]
    assert [run.result.content for run in result.runs] == ["Sunny and 18 °C in Paris."]
    assert result.text == ANSWER and not result.error
