"""`hearth chat --mcp`: a real stdio MCP server (made with the SDK) and a model that calls its tool."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from app import cli
from tests.support.tool_model import ANSWER, write_weather_model

pytest.importorskip("mcp")
ROOT = Path(__file__).resolve().parents[2]
UNASKED = "The call was not run: nobody could be asked to allow it."


@pytest.fixture(scope="module")
def weather_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_weather_model(tmp_path_factory.mktemp("tools") / "weather.gguf")


@pytest.fixture
def servers(tmp_path: Path) -> Path:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {"weather": {
        "command": sys.executable, "args": ["-m", "tests.support.mcp_weather"], "env": {"PYTHONPATH": str(ROOT)}}}}),
        encoding="utf-8")
    return path


def chat(model: Path, servers: Path, *extra: str) -> list[str]:
    return ["chat", "--model", str(model), "--mcp", str(servers), "--temperature", "0", *extra,
            "What is the weather in Paris?"]


def test_allowed_calls_run_and_the_model_answers_from_the_result(weather_model, servers, capsys) -> None:
    assert cli.main(chat(weather_model, servers, "--allow-tools", "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reply"] == ANSWER
    assert out["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"},
                                  "result": "Sunny and 18 °C in Paris."}]
    assert out["stop_reason"] == "eos"


def test_without_a_terminal_calls_are_refused_and_the_chat_goes_on(weather_model, servers, capsys) -> None:
    assert cli.main(chat(weather_model, servers, "--json")) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["tool_calls"][0]["result"] == UNASKED  # not "the user did not allow": nobody was asked
    assert "--allow-tools" in captured.err
    assert out["reply"] == ANSWER  # the scripted model answers after any tool message


def test_the_round_limit_stops_with_tool_limit(weather_model, servers, capsys) -> None:
    assert cli.main(chat(weather_model, servers, "--allow-tools", "--json", "--max-tool-rounds", "0")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stop_reason"] == "tool_limit" and out["tool_calls"] == []
    assert "0 rounds" in out["reply"]


def test_a_bad_config_is_named(weather_model, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"servers": {}}', encoding="utf-8")
    assert cli.main(chat(weather_model, bad)) != 0
    assert "mcpServers" in capsys.readouterr().err


def test_always_grants_of_the_app_cover_only_its_own_servers(weather_model, servers, capsys) -> None:
    """A grant the app keeps for its "weather" never runs another file's "weather" (maybe another
    program) without asking; Hearth's own mcp.json keeps using the app's grants."""
    from app.tools import app_setup
    from app.tools.config import load_config
    from app.tools.permissions import Decision, Grants

    own = app_setup.servers_path()
    own.write_text(servers.read_text(encoding="utf-8"), encoding="utf-8")
    fingerprint = load_config(own)[0].fingerprint
    Grants(app_setup.grants_path()).record(Decision.ALWAYS_SERVER, "weather", "get_weather", fingerprint)

    assert cli.main(chat(weather_model, servers, "--json")) == 0  # another file, same server: asked (no terminal)
    assert json.loads(capsys.readouterr().out)["tool_calls"][0]["result"] == UNASKED

    assert cli.main(chat(weather_model, own, "--json")) == 0  # the app's own servers: its grant holds
    assert json.loads(capsys.readouterr().out)["tool_calls"][0]["result"] == "Sunny and 18 °C in Paris."

    evil = json.loads(own.read_text(encoding="utf-8"))
    evil["mcpServers"]["weather"]["args"].append("--other")  # another server under the same name
    own.write_text(json.dumps(evil), encoding="utf-8")
    assert cli.main(chat(weather_model, own, "--json")) == 0
    assert json.loads(capsys.readouterr().out)["tool_calls"][0]["result"] == UNASKED


def test_a_tool_name_two_servers_share_is_named(weather_model, servers, capsys) -> None:
    config = json.loads(servers.read_text(encoding="utf-8"))
    config["mcpServers"]["forecast"] = config["mcpServers"]["weather"]
    servers.write_text(json.dumps(config), encoding="utf-8")
    assert cli.main(chat(weather_model, servers, "--allow-tools", "--json")) == 0
    captured = capsys.readouterr()
    assert "the tool get_weather of forecast is not offered: weather has a tool of this name" in captured.err
    assert json.loads(captured.out)["tool_calls"][0]["result"] == "Sunny and 18 °C in Paris."


class Typed(io.StringIO):
    """What a person types on a terminal."""

    def isatty(self) -> bool:
        return True


def test_arguments_edited_on_the_terminal_are_asked_again_until_they_are_a_json_object() -> None:
    from app.chat.message import ToolCallPart
    from app.cli.chat_tools import TerminalAsk
    from app.tools.permissions import Decision

    said = io.StringIO()
    ask = TerminalAsk(False, Typed('e\n{"city": Lyon}\n["Lyon"]\n{"city": "Lyon"}\no\n'), said)
    decision, arguments = ask(ToolCallPart("c1", "get_weather", '{"city": "Paris"}'), "weather")
    assert (decision, arguments) == (Decision.ONCE, '{"city": "Lyon"}')
    assert "not valid JSON" in said.getvalue() and "not a JSON object" in said.getvalue()
