"""A reply in a chat with tools on waits for servers still starting (a server that hangs takes its whole
start timeout): the chat says which it waits for, and Stop ends the wait and the reply."""

from __future__ import annotations

import json
import sys
import time

import pytest

from app import paths
from app.tools import app_setup
from tests.ui.test_journeys import assistant_cards, choose_model, click, settle, type_and_send, wait_reply
from tests.ui.tools.test_tool_settings import write_hello_model
from tests.ui.tools.test_tools_dialog import ROOT

pytest.importorskip("mcp")
# a stdio program that never answers MCP's first request
HANG = {"command": sys.executable, "args": ["-c", "import time; time.sleep(120)"]}
# the weather server, 1.5 s slow to start
SLOW_START = {"command": sys.executable, "env": {"PYTHONPATH": str(ROOT)}, "args": [
    "-c", "import runpy, time; time.sleep(1.5); runpy.run_module('tests.support.mcp_weather', run_name='__main__')"]}


def open_chat_with_tools(make_window, qtbot, servers: dict):
    model = write_hello_model(paths.models_dir() / "hello.gguf")
    app_setup.servers_path().write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    window = make_window()
    settle(qtbot, window)
    choose_model(qtbot, window, model)
    return window


def test_stop_ends_the_wait_for_a_server_that_hangs_while_starting(make_window, qtbot):
    window = open_chat_with_tools(make_window, qtbot, {"hang": HANG})
    page = window.chat_page
    type_and_send(qtbot, page, "Hi")  # (a new chat: Tools is switched on before its first send)
    wait_reply(qtbot, window)
    click(qtbot, page, "Use tools in this chat")
    type_and_send(qtbot, page, "Hi again")
    qtbot.waitUntil(lambda: page.notice.text().startswith("Starting"), timeout=5000)
    assert page.notice.text() == "Starting MCP server hang… (it may take up to 30 s; Stop cancels this reply)"
    assert page.streaming
    started = time.monotonic()
    click(qtbot, page, "Stop")
    wait_reply(qtbot, window)
    assert time.monotonic() - started < 3  # not the server's 30 s
    assert page.notice.text() == ""
    assert window.tools.starting_servers() == ["hang"]  # it goes on starting behind
    assert assistant_cards(window)[-1].item.stats["stop_reason"] == "cancelled"
    assert [c.item.content for c in assistant_cards(window)] == ["Hello there.", ""]  # the stopped one: empty


def test_the_line_goes_when_the_server_is_ready_and_the_reply_goes_on(make_window, qtbot):
    window = open_chat_with_tools(make_window, qtbot, {"weather": SLOW_START})
    page = window.chat_page
    type_and_send(qtbot, page, "Hi")
    wait_reply(qtbot, window)
    click(qtbot, page, "Use tools in this chat")
    type_and_send(qtbot, page, "Hi again")
    qtbot.waitUntil(lambda: page.notice.text().startswith("Starting MCP server weather…"), timeout=5000)
    wait_reply(qtbot, window)
    assert page.notice.text() == ""
    assert window.tools.hub.servers["weather"].state == "ready"
    assert [c.item.content for c in assistant_cards(window)] == ["Hello there.", "Hello there."]
