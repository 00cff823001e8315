"""A real stdio MCP server (tests/support/mcp_weather.py, made with the SDK) through McpHub."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from app.tools.config import ConfigError, ServerConfig, load_config, parse_config
from app.tools.mcp_client import McpHub

pytest.importorskip("mcp")
ROOT = Path(__file__).resolve().parents[2]


def weather_server(name: str = "weather") -> ServerConfig:
    return ServerConfig(name, command=sys.executable, args=("-m", "tests.support.mcp_weather"),
                        env={"PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def hub():
    with McpHub([weather_server(), ServerConfig("gone", command="/nonexistent/mcp-server")],
                start_timeout=30) as running:
        yield running


def test_tools_are_listed_and_called(hub: McpHub) -> None:
    assert hub.servers["weather"].state == "ready"
    assert {t.name for t in hub.tools()} == {"get_weather", "slow", "crash"}
    tool = hub.find("get_weather")
    assert tool is not None and tool.schema["required"] == ["city"]
    assert tool.openai()["function"]["parameters"]["properties"]["city"]["type"] == "string"
    result = hub.call(tool, {"city": "Paris"})
    assert (result.text, result.is_error) == ("Sunny and 18 °C in Paris.", False)
    assert result.seconds > 0


def test_a_server_that_cannot_start_is_a_state_not_a_crash(hub: McpHub) -> None:
    gone = hub.servers["gone"]
    assert gone.state == "failed" and gone.error


def test_timeouts_and_stop_give_plain_sentences(hub: McpHub) -> None:
    slow = hub.find("slow")
    assert slow is not None
    late = hub.call(slow, {"seconds": 5}, timeout=0.5)
    assert late.is_error and "did not answer within 0.5 s" in late.text
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    stopped = hub.call(slow, {"seconds": 5}, cancel=stop)
    assert stopped.is_error and "cancelled" in stopped.text and time.monotonic() - started < 3
    assert not hub.call(hub.find("get_weather"), {"city": "Oslo"}).is_error  # the server goes on


def test_a_server_that_dies_mid_call() -> None:
    with McpHub([weather_server("fragile")], start_timeout=30) as hub:
        crash = hub.find("crash")
        assert crash is not None
        result = hub.call(crash, {}, timeout=5)
        assert result.is_error and result.text == "The MCP server fragile stopped while it ran crash."


def test_mcp_json_as_other_apps_write_it(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"files": {"command": "npx", "args": ["-y", "server-files", "/tmp"], '
                    '"env": {"DEBUG": "1"}}, "remote": {"url": "https://example.org/mcp", '
                    '"headers": {"Authorization": "Bearer x"}}}}', encoding="utf-8")
    files, remote = load_config(path)
    assert (files.transport, files.args, files.env) == ("stdio", ("-y", "server-files", "/tmp"), {"DEBUG": "1"})
    assert (remote.transport, remote.headers) == ("http", {"Authorization": "Bearer x"})
    for bad, words in (({}, "mcpServers"), ({"mcpServers": {"x": {}}}, '"command"'),
                       ({"mcpServers": {"x": {"command": "a", "args": "b"}}}, '"args"'),
                       ({"mcpServers": {"x": {"url": "ftp://h"}}}, "http://")):
        with pytest.raises(ConfigError, match=words):
            parse_config(bad)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(path)


def test_a_streamable_http_server() -> None:
    from tests.support.mcp_weather import server
    from tests.support.servers import uvicorn_thread

    with uvicorn_thread(server.streamable_http_app()) as url:
        with McpHub([ServerConfig("web", url=url + "/mcp", headers={"X-Test": "1"})], start_timeout=30) as hub:
            assert hub.servers["web"].state == "ready", hub.servers["web"].error
            tool = hub.find("get_weather")
            assert tool is not None and tool.server == "web"
            assert hub.call(tool, {"city": "Lima"}).text == "Sunny and 18 °C in Lima."


def test_an_sse_server_as_cursor_files_name_it(tmp_path: Path) -> None:
    from app.tools.app_setup import config_json
    from tests.support.mcp_weather import server
    from tests.support.servers import uvicorn_thread

    (config,) = parse_config({"mcpServers": {"old": {"type": "sse", "url": "http://127.0.0.1:1/sse"}}})
    assert config.transport == "sse" and config_json(config) == {"url": "http://127.0.0.1:1/sse", "type": "sse"}
    plain = ServerConfig("web", url="http://127.0.0.1:1/sse")
    assert config.fingerprint != plain.fingerprint  # another transport is another server for the grants
    with pytest.raises(ConfigError, match='"type" "websocket" is not one Hearth knows'):
        parse_config({"mcpServers": {"x": {"type": "websocket", "url": "http://h/ws"}}})
    with uvicorn_thread(server.sse_app()) as url:
        with McpHub([ServerConfig("old", url=url + "/sse", sse=True)], start_timeout=30) as hub:
            assert hub.servers["old"].state == "ready", hub.servers["old"].error
            tool = hub.find("get_weather")
            assert tool is not None and hub.call(tool, {"city": "Quito"}).text == "Sunny and 18 °C in Quito."


def test_a_crashed_server_is_restarted_and_runs_again() -> None:
    with McpHub([weather_server("fragile")], start_timeout=30) as hub:
        crash = hub.find("crash")
        assert crash is not None
        hub.call(crash, {}, timeout=5)
        deadline = time.monotonic() + 10
        while hub.servers["fragile"].state == "ready" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub.servers["fragile"].state in ("stopped", "failed")
        assert hub.call(crash, {"city": "Oslo"}).text.startswith("The tool server fragile is not running")
        hub.restart("fragile")
        assert hub.servers["fragile"].state == "ready"
        weather = hub.find("get_weather")
        assert weather is not None and hub.call(weather, {"city": "Oslo"}).text == "Sunny and 18 °C in Oslo."
        hub.restart("fragile")  # a running one is stopped, then started again
        assert hub.servers["fragile"].state == "ready" and hub.find("get_weather") is not None


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="looks for the process in /proc")
def test_closing_ends_a_server_that_hangs_while_starting(tmp_path: Path) -> None:
    """It heeds nothing while it starts (MCP's first request unanswered): closing cancels it and its
    process is ended, rather than left running after the app quits."""
    pid_file = tmp_path / "pid"
    hang = ServerConfig("hang", sys.executable, (
        "-c", f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"))
    hub = McpHub([hang])
    threading.Thread(target=hub.start, daemon=True).start()
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the server never started"
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    assert hub.servers["hang"].state == "starting"
    started = time.monotonic()
    hub.close()
    assert time.monotonic() - started < 8  # (the SDK gives a process 2 s to end before it ends it)
    assert not Path(f"/proc/{pid}").exists()
