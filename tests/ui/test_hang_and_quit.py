"""A stopped engine never leaves the window stuck (quitting in every state: test_application.py)."""

from __future__ import annotations

import os
import signal
from dataclasses import replace

from PySide6.QtCore import Qt

from tests.ui.chat.test_chat_page import start_long_reply, type_and_send
from tests.ui.conftest import load, wait_reply


def stop_engine(window) -> None:
    os.kill(window.engine.client.pid, signal.SIGSTOP)


def send_short(qtbot, page, text: str) -> None:
    page.sampling.set_params(replace(page.sampling.params(), max_tokens=8), emit=True)
    type_and_send(qtbot, page, text)
    wait_reply(qtbot, page)


def test_a_stopped_engine_mid_reply_keeps_the_partial_reply_and_the_next_message_works(qtbot, window, tiny_model):
    window.engine.client.hang_timeout = 1.5
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=4096, max_tokens=0)
    stop_engine(window)
    wait_reply(qtbot, page, timeout=15000)  # leaves "writing…"
    reply = page.messages.item(1)
    assert "stopped responding" in reply.error
    assert reply.content  # the partial reply is kept
    assert "the engine stopped responding; it was restarted" in page.notice.text()
    send_short(qtbot, page, "again")
    assert page.messages.item(3).stats["completion_tokens"] == 8


def test_a_stopped_engine_during_a_load_is_reported_and_the_next_load_works(qtbot, window, tiny_model, scripted_model):
    window.engine.client.hang_timeout = 1.5
    load(qtbot, window, tiny_model)
    stop_engine(window)
    with qtbot.waitSignal(window.engine.load_failed, timeout=15000) as blocker:
        window.model_opener.open_with_model(str(scripted_model))
    assert blocker.args[1] == "the engine stopped responding; it was restarted"
    info = load(qtbot, window, scripted_model)  # a fresh engine
    assert info.path == str(scripted_model)


def test_stop_works_within_a_second_even_when_the_engine_does_not_answer(qtbot, window, tiny_model):
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=4096, max_tokens=0)
    stop_engine(window)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not page.streaming, timeout=2500)
    reply = page.messages.item(1)
    assert reply.content and reply.stats["stop_reason"] == "cancelled"
    send_short(qtbot, page, "again")
    assert page.messages.item(3).stats["completion_tokens"] == 8
