"""A reasoning model's thinking: shown apart, folded, stored, reopened and exported; the Thinking switch."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.engine import SamplingParams
from app.ui.chat.message_model import ChatItem
from app.ui.chat.message_view import MessageCard
from app.ui.chat.thinking_section import thinking_summary
from tests.ui.conftest import load, wait_reply


def send(qtbot, page, text: str) -> None:
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0), emit=True)
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, text)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return)
    wait_reply(qtbot, page)


def test_thinking_is_shown_apart_folded_and_stored(qtbot, window, thinking_model):
    page = window.chat_page
    load(qtbot, window, thinking_model)
    send(qtbot, page, "Hello")
    reply = page.messages.item(1)
    assert (reply.reasoning, reply.content) == ("the user chat", "Hello world")
    assert reply.stats["reasoning_tokens"] == 5
    card = page.view.cards()[1]
    section = card.thinking
    assert not section.isHidden() and not section.expanded
    assert section.body.isHidden()
    assert thinking_summary(5, 0.004, False) == "Thinking · 5 tokens · 4 ms"
    assert section.toggle.text().startswith("Thinking · 5 tokens")
    assert "the user chat" not in card.body.toPlainText() and "Hello world" in card.body.toPlainText()
    qtbot.mouseClick(section.toggle, Qt.MouseButton.LeftButton)
    assert section.expanded and not section.body.isHidden()
    assert section.body.text() == "the user chat"
    assert section.body.textFormat() == Qt.TextFormat.PlainText
    stored = window.store.messages(page.chat_id)[1]
    assert (stored.reasoning, stored.content) == ("the user chat", "Hello world")
    assert stored.stats["reasoning_tokens"] == 5


def test_thinking_survives_reopening_and_is_exported(qtbot, make_window, thinking_model, tmp_path, monkeypatch):
    window = make_window()
    page = window.chat_page
    load(qtbot, window, thinking_model)
    send(qtbot, page, "Hello")
    chat_id = page.chat_id
    window.close()
    again = make_window()
    assert again.chat_page.chat_id == chat_id
    reply = again.chat_page.messages.item(1)
    assert (reply.reasoning, reply.content) == ("the user chat", "Hello world")
    section = again.chat_page.view.cards()[1].thinking
    assert not section.isHidden() and not section.expanded
    # the history sent back carries the past thinking
    assert again.chat_page.session.history()[-1].reasoning == "the user chat"
    target = tmp_path / "chat.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    again.chat_files.export("md")
    qtbot.waitUntil(target.is_file, timeout=10_000)  # written off the GUI thread
    text = target.read_text(encoding="utf-8")
    assert "<summary>Thinking (5 tokens" in text and "the user chat\n\n</details>\n\nHello world" in text


def test_section_streams_open_and_folds_once_the_answer_starts(qtbot):
    card = MessageCard(ChatItem(1, "assistant", "", streaming=True))
    qtbot.addWidget(card)
    section = card.thinking
    assert section.isHidden()
    card.set_item(ChatItem(1, "assistant", "", stats={"reasoning_tokens": 3, "reasoning_s": 0.5},
                           streaming=True, reasoning="Let me see"))
    assert not section.isHidden() and section.expanded
    assert section.toggle.text() == "Thinking… · 3 tokens · 0.5 s"
    card.set_item(ChatItem(1, "assistant", "Answer", stats={"reasoning_tokens": 4, "reasoning_s": 0.7},
                           streaming=True, reasoning="Let me see."))
    assert not section.expanded and section.toggle.text() == "Thinking · 4 tokens · 0.7 s"
    section.toggle.click()  # the user opens it again: later updates leave it open
    card.set_item(ChatItem(1, "assistant", "Answer more", streaming=True, reasoning="Let me see."))
    card.set_item(ChatItem(1, "assistant", "Answer more", streaming=False, reasoning="Let me see."))
    assert section.expanded and section.body.text() == "Let me see."


def test_plain_reply_has_no_thinking_section(qtbot):
    card = MessageCard(ChatItem(1, "assistant", " Hello world"))
    qtbot.addWidget(card)
    assert card.thinking.isHidden()


def test_thinking_switch_shows_only_for_models_that_take_it_and_is_saved(qtbot, window, scripted_model, monkeypatch):
    page = window.chat_page
    info = load(qtbot, window, scripted_model)
    assert info.thinking_modes == () and page.thinking.isHidden()
    page.set_thinking_modes(("on", "off"))  # what a model whose template reacts to enable_thinking reports
    assert not page.thinking.isHidden()
    sent = []
    real_chat, real_count = page.engine.chat, page.engine.count
    monkeypatch.setattr(page.engine, "chat", lambda *a: sent.append(("chat", a[-1])) or real_chat(*a))
    monkeypatch.setattr(page.engine, "count", lambda *a: sent.append(("count", a[-1])) or real_count(*a))
    page.new_chat()
    page.thinking.combo.setCurrentIndex(page.thinking.combo.findData("off"))
    assert window.store.chat(page.chat_id).thinking == "off"
    send(qtbot, page, "Hello")
    assert ("chat", "off") in sent and ("count", "off") in sent
    # another chat keeps its own setting; coming back restores "off"
    first = page.chat_id
    page.new_chat()
    page.thinking.combo.setCurrentIndex(page.thinking.combo.findData("on"))
    page.session.open(first)
    assert page.thinking.combo.currentData() == "off"
    # a model that ignores thinking hides the switch and is sent "default"
    page.set_thinking_modes(())
    assert page.thinking.isHidden() and page.thinking.value() == "default"


def test_thinking_tokens_move_the_context_meter_while_streaming(qtbot, window, monkeypatch):
    page = window.chat_page
    page.new_chat()
    conversation = page.session.conversation
    conversation.begin_reply(4242, "", conversation.sampling)  # a reply under way, as job 4242
    page.session._writing = conversation
    page.session._show()
    row = conversation.reply_index()
    streamed = []
    page.session.streamed.connect(streamed.append)
    page.engine.reasoning.emit(4242, "weighing it", 321)  # thinking only: no answer text yet
    page.session.flush_pending()
    assert streamed == [321]
    assert page.messages.item(row).reasoning == "weighing it"
    assert page.messages.item(row).stats["reasoning_tokens"] == 321
    assert window.store.messages(page.chat_id)[-1].reasoning == "weighing it"  # saved while streaming
    page.session._writing = None
