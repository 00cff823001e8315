"""The tool loop with a real engine, a real stdio MCP server and the terminal's questions."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from app.chat.message import ToolCallPart, ToolResultPart
from app.chat.tool_loop import ToolLoop
from app.cli.chat_tools import TerminalAsk
from app.engine import ChatMessage, EngineClient, LoadOptions, SamplingParams
from app.tools.config import ServerConfig
from app.tools.mcp_client import HubToolBox, McpHub
from app.tools.permissions import Decision, Grant, Grants
from tests.support.tool_model import ANSWER, write_weather_model

pytest.importorskip("mcp")
ROOT = Path(__file__).resolve().parents[2]
GREEDY = SamplingParams(temperature=0)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    model = write_weather_model(tmp_path_factory.mktemp("loop") / "weather.gguf")
    server = ServerConfig("weather", command=sys.executable, args=("-m", "tests.support.mcp_weather"),
                          env={"PYTHONPATH": str(ROOT)})
    with EngineClient() as engine, McpHub([server]) as hub:
        info = engine.load(LoadOptions(path=str(model), n_ctx=2048, n_gpu_layers=0))
        yield engine, info, hub


def test_an_always_grant_is_kept_listed_and_revocable(setup, tmp_path: Path) -> None:
    engine, info, hub = setup
    grants = Grants(tmp_path / "grants.json")
    asked = TerminalAsk(False, Terminal("t\n"), io.StringIO())
    loop = ToolLoop(engine, HubToolBox(hub), grants, asked, tool_format=info.tool_format)
    result = loop.reply([ChatMessage("user", "Weather?")], GREEDY)
    assert result.text == ANSWER and [r.decision for r in result.runs] == ["always_tool"]
    assert [m.role for m in result.added] == ["assistant", "tool", "assistant"]
    assert isinstance(result.added[0].parts[-1], ToolCallPart)
    assert result.added[1].parts == (ToolResultPart(result.runs[0].call.call_id, "Sunny and 18 °C in Paris."),)
    fingerprint = hub.servers["weather"].config.fingerprint
    assert Grants(tmp_path / "grants.json").list() == [Grant("weather", "get_weather", fingerprint)]  # kept
    again = ToolLoop(engine, HubToolBox(hub), grants, TerminalAsk(False, Terminal(""), io.StringIO()),
                     tool_format=info.tool_format).reply([ChatMessage("user", "Weather?")], GREEDY)
    assert [r.decision for r in again.runs] == ["granted"]  # not asked again
    grants.revoke(Grant("weather", "get_weather", fingerprint))
    assert not Grants(tmp_path / "grants.json").allowed("weather", "get_weather", fingerprint)


def test_edited_arguments_are_what_runs(setup, tmp_path: Path) -> None:
    engine, info, hub = setup
    asked = TerminalAsk(False, Terminal('e\n{"city": "Rome"}\no\n'), io.StringIO())
    result = ToolLoop(engine, HubToolBox(hub), Grants(), asked, tool_format=info.tool_format).reply(
        [ChatMessage("user", "Weather?")], GREEDY)
    assert result.runs[0].call.arguments == '{"city": "Rome"}'
    assert result.runs[0].result.content == "Sunny and 18 °C in Rome."
    assert Grants().list() == []  # once is not kept


def test_a_closed_terminal_denies(setup) -> None:
    engine, info, hub = setup
    decision, _ = TerminalAsk(False, Terminal(""), io.StringIO())(ToolCallPart("c", "get_weather", "{}"), "weather")
    assert decision is Decision.DENY
