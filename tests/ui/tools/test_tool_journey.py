"""The tools journey through the real window: a chat with tools on calls the weather tool of a real
stdio MCP server (tests/support/mcp_weather.py) after the user allows it in the approval dialog, and
answers from its result; the folded call survives a restart. The model is the scripted weather model
(tests/support/tool_model.py): it calls get_weather, then answers from the tool's message."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from app import paths
from app.tools import app_setup
from app.ui.application import shutdown
from app.ui.tools.approval_dialog import ApprovalDialog
from tests.support.reply_model import write_replies_model
from tests.support.tool_model import ANSWER, TEMPLATE, write_weather_model
from tests.ui.test_journeys import assistant_cards, choose_model, click, named, settle, type_and_send, wait_reply

pytest.importorskip("mcp")
ROOT = Path(__file__).resolve().parents[3]
RESULT = "Sunny and 18 °C in Paris."


def weather_servers() -> None:
    """Hearth's mcp.json names the test weather server, as a user's copied config would."""
    app_setup.servers_path().write_text(json.dumps({"mcpServers": {"weather": {
        "command": sys.executable, "args": ["-m", "tests.support.mcp_weather"], "env": {"PYTHONPATH": str(ROOT)}}}}),
        encoding="utf-8")


def approval_dialog(qtbot) -> ApprovalDialog:
    found: list[ApprovalDialog] = []

    def shown() -> bool:
        found[:] = [w for w in QApplication.topLevelWidgets() if isinstance(w, ApprovalDialog) and w.isVisible()]
        return len(found) == 1

    qtbot.waitUntil(shown, timeout=60000)
    return found[0]


def test_a_chat_calls_an_mcp_tool_after_approval_and_answers_from_its_result(make_window, qtbot):
    model = write_weather_model(paths.models_dir() / "weather-tools.gguf")
    weather_servers()
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, model)
    box = named(page, "Message", QWidget)
    qtbot.keyClicks(box, "What is the weather in Paris?")
    qtbot.waitUntil(lambda: page.meter.used > 0, timeout=10000)
    without_tools = page.meter.used
    click(qtbot, page, "Use tools in this chat")
    # the servers start off the GUI thread; once ready, the meter counts the schemas offered
    qtbot.waitUntil(lambda: page.meter.used > without_tools + 50, timeout=60000)
    assert named(page, "Use tools in this chat").text() == "Tools on"
    qtbot.keyClick(box, Qt.Key.Key_Return)

    dialog = approval_dialog(qtbot)
    assert json.loads(named(dialog, "Tool call arguments", QWidget).toPlainText()) == {"city": "Paris"}
    click(qtbot, dialog, "Allow once")
    wait_reply(qtbot, window)

    card = assistant_cards(window)[-1]
    assert card.item.content == ANSWER and not card.item.error
    click(qtbot, card, "Tool call get_weather")
    details = named(card, "Tool call get_weather details", QWidget)
    assert RESULT in details.text() and '"city": "Paris"' in details.text()
    assert not window.tools.grants.list()  # "once" is kept for no other call
    chat_id = page.session.chat_id
    window.close()
    assert shutdown(window)

    window = make_window()  # a restart: the reply and its folded call come back from the store
    settle(qtbot, window)
    window.show_chat(chat_id)
    qtbot.waitUntil(lambda: bool(assistant_cards(window)), timeout=5000)
    card = assistant_cards(window)[-1]
    assert card.item.content == ANSWER
    header = named(card, "Tool call get_weather")
    assert header.text().startswith("get_weather · ") and named(window.chat_page, "Use tools in this chat").isChecked()


def test_deny_and_stop_leave_a_plain_sentence_and_the_chat_goes_on(make_window, qtbot):
    model = write_weather_model(paths.models_dir() / "weather-tools.gguf")
    weather_servers()
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, model)
    click(qtbot, page, "Use tools in this chat")
    type_and_send(qtbot, page, "What is the weather in Paris?")
    click(qtbot, approval_dialog(qtbot), "Deny")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[-1]
    assert card.item.content == ANSWER  # the scripted model answers after any tool message
    assert card.item.tools[0][1].content == "The user did not allow this call."

    type_and_send(qtbot, page, "And now?")  # Stop while the dialog asks: nothing runs, the chat goes on
    dialog = approval_dialog(qtbot)
    click(qtbot, page, "Stop the reply")
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    wait_reply(qtbot, window)
    assert not page.streaming
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        QApplication.processEvents()
    assert len(assistant_cards(window)) == 2


def write_caller(path: Path, call: dict) -> Path:
    """Like the weather model, but it calls `call` (the test server's slow or crash tool)."""
    return write_replies_model(path, TEMPLATE, ["<|im_start|>", "<|im_end|>", "<|answer|>"], [
        ("<|im_start|>assistant\n", ["<tool_call>", json.dumps(call), "</tool_call>"]),
        ("<|im_start|>assistant<|answer|>", [ANSWER]),
    ])


def test_stop_cancels_a_running_call_and_a_crash_is_a_plain_sentence(make_window, qtbot):
    slow = write_caller(paths.models_dir() / "slow-caller.gguf", {"name": "slow", "arguments": {"seconds": 60}})
    crash = write_caller(paths.models_dir() / "crash-caller.gguf", {"name": "crash", "arguments": {}})
    weather_servers()
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, slow)
    click(qtbot, page, "Use tools in this chat")
    type_and_send(qtbot, page, "Wait a minute.")
    click(qtbot, approval_dialog(qtbot), "Always for this server")
    time.sleep(1.0)  # the call is running on the server
    assert page.streaming
    started = time.monotonic()
    click(qtbot, page, "Stop the reply")
    wait_reply(qtbot, window)
    assert time.monotonic() - started < 10  # not the minute the tool would take
    card = assistant_cards(window)[-1]
    assert card.item.tools[0][1].content == "Stopped: slow was cancelled before it answered."
    assert card.item.stats["stop_reason"] == "cancelled"
    assert [g.describe() for g in window.tools.grants.list()] == ["every tool of weather"]

    choose_model(qtbot, window, crash)  # the server's tools are allowed always now: no question
    type_and_send(qtbot, page, "Crash it.")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[-1]
    result = card.item.tools[0][1]
    assert result.is_error and result.content == "The MCP server weather stopped while it ran crash."
    assert card.item.content == ANSWER and not card.item.error  # the chat goes on
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, ApprovalDialog) and w.isVisible()]


def test_a_model_that_keeps_calling_stops_at_the_round_limit_and_says_so(make_window, qtbot):
    """Every reply of this model is a call: after 8 rounds the loop stops; the card's stop reason is
    tool_limit (not the last round's eos) and it says in words that it stopped after 8 rounds."""
    from app.chat.tool_loop import MAX_ROUNDS
    from app.ui.chat.message_view import format_stats

    call = ["<tool_call>", json.dumps({"name": "get_weather", "arguments": {"city": "Paris"}}), "</tool_call>"]
    looper = write_replies_model(paths.models_dir() / "looper.gguf", TEMPLATE,
                                 ["<|im_start|>", "<|im_end|>", "<|answer|>"],
                                 [("<|im_start|>assistant\n", call), ("<|im_start|>assistant<|answer|>", call)])
    weather_servers()
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, looper)
    click(qtbot, page, "Use tools in this chat")
    type_and_send(qtbot, page, "Weather, again and again.")
    click(qtbot, approval_dialog(qtbot), "Always for this server")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[-1]
    assert len(card.item.tools) == MAX_ROUNDS and all(r.content == RESULT for _, r in card.item.tools)
    assert card.item.stats["stop_reason"] == "tool_limit"
    assert f"after {MAX_ROUNDS} rounds of tool calls" in format_stats(card.item.stats)
    assert f"after {MAX_ROUNDS} rounds" in card.item.content and not card.item.error


def test_each_rounds_text_is_its_own_paragraph(make_window, qtbot):
    """A model that says something before its call, then answers: the two rounds' texts are shown
    (and kept) with a blank line between, not run together."""
    call = ["Let me look that up.", "<tool_call>", json.dumps({"name": "get_weather", "arguments": {"city": "Paris"}}),
            "</tool_call>"]
    talker = write_replies_model(paths.models_dir() / "talker.gguf", TEMPLATE,
                                 ["<|im_start|>", "<|im_end|>", "<|answer|>"],
                                 [("<|im_start|>assistant\n", call), ("<|im_start|>assistant<|answer|>", [ANSWER])])
    weather_servers()
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, talker)
    click(qtbot, page, "Use tools in this chat")
    type_and_send(qtbot, page, "What is the weather in Paris?")
    click(qtbot, approval_dialog(qtbot), "Allow once")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[-1]
    assert card.item.content == f"Let me look that up.\n\n{ANSWER}"
    assert card.item.tools[0][1].content == RESULT
