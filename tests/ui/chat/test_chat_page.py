"""The chat window driven like a person would, with the real engine."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from dataclasses import replace

from PySide6.QtCore import Qt, QUrl

from app.engine import ChatMessage, SamplingParams
from tests.ui.conftest import load, wait_reply


def type_and_send(qtbot, page, text: str) -> None:
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, text)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return)


@contextmanager
def engine_paused(window):
    """Hold the engine still for a moment, so a reply is certainly still streaming (well under the hang timeout)."""
    pid = window.engine.client.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def start_long_reply(qtbot, window, model, n_ctx: int, max_tokens: int):
    """Load the random model, send a message and return while the reply is streaming, some text shown.

    The engine is held still from its first token until the text shows: a fast CPU writes the
    whole reply between two looks at the window otherwise. Nothing more is handled (the GUI
    thread is ours) until the caller waits again."""
    page = window.chat_page
    load(qtbot, window, model, n_ctx=n_ctx)
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0, max_tokens=max_tokens), emit=True)
    pid, paused = window.engine.client.pid, []

    def pause(*_args) -> None:
        if not paused:
            os.kill(pid, signal.SIGSTOP)
            paused.append(pid)

    window.engine.token.connect(pause)
    try:
        type_and_send(qtbot, page, "Hello")
        qtbot.waitUntil(lambda: bool(paused) and page.messages.item(1).content != "", timeout=20000)
    finally:
        window.engine.token.disconnect(pause)
        if paused:
            os.kill(pid, signal.SIGCONT)
    assert page.streaming
    return page


def test_send_shows_streamed_reply_and_stats(qtbot, window, scripted_model):
    page = window.chat_page
    info = load(qtbot, window, scripted_model)
    assert info.chat_template == "gguf"
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0), emit=True)
    type_and_send(qtbot, page, "Hello")
    assert page.messages.rowCount() == 2  # the message and the reply's card appear at once
    wait_reply(qtbot, page)
    items = page.messages.items()
    assert [i.role for i in items] == ["user", "assistant"]
    assert items[1].content == " Hello world"
    assert items[1].stats["stop_reason"] == "eos"
    cards = page.view.cards()
    assert "Hello world" in cards[1].body.toPlainText()
    assert "tokens" in cards[1].stats.text() and "stop: eos" in cards[1].stats.text()
    # on disk as well, with model, sampling and stats
    stored = window.store.messages(page.chat_id)
    assert stored[1].content == " Hello world" and stored[1].complete
    assert stored[1].sampling["temperature"] == 0.0 and stored[1].stats["completion_tokens"] == 2


def test_shift_enter_adds_a_line_and_enter_sends(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    qtbot.keyClicks(page.composer.edit, "one")
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(page.composer.edit, "two")
    assert page.composer.text() == "one\ntwo"
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return)
    wait_reply(qtbot, page)
    assert page.messages.item(0).content == "one\ntwo"


def test_stop_keeps_the_partial_reply(qtbot, window, tiny_model):
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=4096, max_tokens=0)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Escape)
    wait_reply(qtbot, page)
    reply = page.messages.item(1)
    assert reply.stats["stop_reason"] == "cancelled"
    assert reply.content
    assert window.store.messages(page.chat_id)[1].content == reply.content


def test_regenerate_adds_an_alternative_reply(qtbot, window, tiny_model):
    page = window.chat_page
    load(qtbot, window, tiny_model)
    page.sampling.set_params(replace(SamplingParams(), temperature=1.0, seed=1, max_tokens=12), emit=True)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    first = page.messages.item(1)
    page.sampling.set_params(replace(page.sampling.params(), seed=2), emit=True)
    qtbot.mouseClick(page.view.cards()[1].buttons["regenerate"], Qt.MouseButton.LeftButton)
    wait_reply(qtbot, page)
    assert page.messages.rowCount() == 2
    second = page.messages.item(1)
    assert second.content != first.content and not second.streaming
    assert [m.role for m in window.store.messages(page.chat_id)] == ["user", "assistant"]
    assert (second.alternative, second.alternatives) == (2, 2)
    assert page.view.cards()[1].counter.text() == "2/2" and page.view.cards()[1].previous.isEnabled()
    qtbot.mouseClick(page.view.cards()[1].previous, Qt.MouseButton.LeftButton)
    assert page.messages.item(1).content == first.content  # the first reply is still there


def test_edit_and_resend_starts_a_branch_and_keeps_the_old_one(qtbot, window, scripted_model, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    page = window.chat_page
    load(qtbot, window, scripted_model)
    type_and_send(qtbot, page, "first question")
    wait_reply(qtbot, page)
    type_and_send(qtbot, page, "second question")
    wait_reply(qtbot, page)
    assert page.messages.rowCount() == 4
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("edited question", True))
    qtbot.mouseClick(page.view.cards()[0].buttons["edit"], Qt.MouseButton.LeftButton)
    wait_reply(qtbot, page)
    contents = [m.content for m in window.store.messages(page.chat_id)]
    assert contents == ["edited question", " Hello world"]
    assert page.view.cards()[0].counter.text() == "2/2"
    qtbot.mouseClick(page.view.cards()[0].previous, Qt.MouseButton.LeftButton)
    assert [i.content for i in page.messages.items()] == ["first question", " Hello world", "second question",
                                                          " Hello world"]


def test_meter_equals_the_engine_count_as_you_type(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.system_prompt.setPlainText("You are a model")
    qtbot.keyClicks(page.composer.edit, "the chat token")
    expected = window.engine.client.count([ChatMessage("system", "You are a model")], "the chat token")
    qtbot.waitUntil(lambda: page.meter.used == expected.prompt_tokens, timeout=5000)
    assert page.meter.n_ctx == 1024
    assert f"{expected.prompt_tokens:,} / 1,024" in page.meter.numbers.text()


def test_meter_warns_before_sending_when_messages_will_be_dropped(qtbot, window, tiny_model):
    page = window.chat_page
    load(qtbot, window, tiny_model, n_ctx=256)
    page.composer.set_text("Hello world " * 300)
    qtbot.waitUntil(lambda: page.meter.warning.text() != "", timeout=5000)
    assert "cut in the middle" in page.meter.warning.text()
    assert page.meter.level in ("near", "ok")
    page.overflow.setCurrentIndex(page.overflow.findData("stop"))
    qtbot.waitUntil(lambda: "Too long" in page.meter.warning.text(), timeout=5000)
    assert page.meter.level == "full"


def test_sampling_values_reach_the_engine_exactly(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    wanted = SamplingParams(temperature=0.35, top_p=0.8, top_k=17, min_p=0.07, repeat_penalty=1.2, seed=99,
                            max_tokens=33)
    page.sampling.spins["temperature"].setValue(0.35)
    page.sampling.spins["top_p"].setValue(0.8)
    page.sampling.spins["top_k"].setValue(17)
    page.sampling.spins["min_p"].setValue(0.07)
    page.sampling.spins["repeat_penalty"].setValue(1.2)
    page.sampling.spins["seed"].setValue(99)
    page.sampling.spins["max_tokens"].setValue(33)
    assert page.sampling.params() == wanted
    with qtbot.waitSignal(page.session.reply_finished, timeout=30000) as finished:
        type_and_send(qtbot, page, "Hello")
    assert finished.args[0].sampling == replace(wanted, top_logprobs=5)  # and the kept token probabilities
    # saved per chat
    assert SamplingParams.from_dict(window.store.chat(page.chat_id).sampling) == wanted


def test_presets_and_reset(qtbot, window):
    panel = window.chat_page.sampling
    panel.preset.setCurrentText("Precise")
    assert panel.params().temperature == 0.2
    panel.reset_button.click()
    assert panel.params() == SamplingParams()
    assert panel.preset.currentText() == "Balanced"


def test_restart_restores_chat_and_settings(qtbot, make_window, scripted_model):
    window = make_window()
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.system_prompt.setPlainText("Be brief")
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    chat_id = page.chat_id
    window.close()
    again = make_window()
    assert again.chat_page.chat_id == chat_id
    assert [i.content for i in again.chat_page.messages.items()] == ["Hello", " Hello world"]
    assert again.chat_page.system_prompt.toPlainText() == "Be brief"
    assert again.settings.last_model == str(scripted_model)


def test_engine_killed_mid_reply_keeps_partial_and_next_message_works(qtbot, window, tiny_model):
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=4096, max_tokens=0)
    window.engine.client.kill()
    wait_reply(qtbot, page)
    reply = page.messages.item(1)
    assert "stopped unexpectedly" in reply.error
    assert reply.content  # the partial reply is kept
    assert "engine stopped unexpectedly" in page.notice.text()
    page.sampling.set_params(replace(page.sampling.params(), max_tokens=8), emit=True)
    type_and_send(qtbot, page, "again")
    wait_reply(qtbot, page)
    assert page.messages.item(3).stats["completion_tokens"] == 8


def test_chat_list_new_rename_search_delete(qtbot, window, scripted_model, monkeypatch):
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    load(qtbot, window, scripted_model)
    page = window.chat_page
    type_and_send(qtbot, page, "about tokens")
    wait_reply(qtbot, page)
    window.new_chat()
    type_and_send(qtbot, page, "about models")
    wait_reply(qtbot, page)
    sidebar = window.sidebar
    assert sidebar.model.rowCount() == 2
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Renamed", True))
    sidebar.rename_current()
    assert window.store.chat(page.chat_id).title == "Renamed"
    sidebar.search.setText("tokens")
    assert sidebar.model.rowCount() == 1
    sidebar.search.setText("")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    sidebar.delete_current()
    assert len(window.store.chats()) == 1


def test_markdown_is_rendered_and_html_is_not_trusted(qtbot, window):
    from app.ui.chat.message_model import ChatItem
    from app.ui.chat.message_view import MessageCard

    card = MessageCard(ChatItem(1, "assistant", "# Title\n\n<img src=x onerror=alert(1)>\n\n```py\nprint(1)\n```"))
    qtbot.addWidget(card)
    html = card.body.toHtml()
    assert "<img" not in html
    assert "&lt;img" in html
    assert "print(1)" in card.body.toPlainText()
    card.body.anchorClicked.emit(QUrl("copy:0"))  # the code block's Copy link
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == "print(1)\n"


def test_send_without_a_model_says_what_to_do(qtbot, window):
    page = window.chat_page
    type_and_send(qtbot, page, "Hello")
    assert "Load a model first" in page.notice.text()
    assert page.composer.text() == "Hello"  # nothing is lost


def test_a_reply_keeps_streaming_while_you_read_another_chat(qtbot, window, tiny_model):
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=2048, max_tokens=1500)
    first_chat = page.chat_id
    with engine_paused(window):
        window.new_chat()  # look elsewhere while it writes
        assert page.chat_id != first_chat and page.messages.rowCount() == 0
        assert page.composer.send_button.isVisible()
        type_and_send(qtbot, page, "meanwhile")
        assert page.streaming
        assert "still being written" in page.notice.text() and page.composer.text() == "meanwhile"
    wait_reply(qtbot, page)
    window.sidebar.select(first_chat)
    assert page.chat_id == first_chat
    reply = page.messages.item(1)
    assert not reply.streaming and reply.stats["completion_tokens"] == 1500 and reply.error == ""
    assert window.store.messages(first_chat)[1].complete


def test_switching_back_shows_the_reply_still_streaming(qtbot, window, tiny_model):
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=2048, max_tokens=1800)
    first_chat = page.chat_id
    with engine_paused(window):
        window.new_chat()
        window.sidebar.select(first_chat)
        assert page.streaming and page.messages.item(1).streaming
        assert page.composer.stop_button.isVisibleTo(page)
    wait_reply(qtbot, page)
    assert page.messages.item(1).stats["completion_tokens"] == 1800


def test_choosing_a_model_in_the_picker_loads_it_with_progress(qtbot, window, scripted_model, tiny_model):
    page = window.chat_page
    load(qtbot, window, tiny_model)
    with qtbot.waitSignal(page.model_loaded, timeout=20000,
                          check_params_cb=lambda info: info.name == "tiny scripted · F32"):
        window.model_opener.open_with_model(str(scripted_model))  # both are in the picker now
    picker = page.load_settings.picker
    index = picker.findData(str(tiny_model))
    picker.setCurrentIndex(index)
    progress = []
    page.load_settings.progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(page.model_loaded, timeout=20000) as blocker:
        picker.activated.emit(index)  # what a click on the entry does
    assert blocker.args[0].path == str(tiny_model)
    assert progress and max(progress) == 100
    assert "tiny chat · F32" in page.load_settings.status.text()
