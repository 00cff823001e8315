"""The chat page when the disk fills, the database fails a read, or a stream stalls."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from PySide6.QtCore import Qt

from app import paths
from app.engine import SamplingParams
from app.engine.protocol import ErrorKind
from app.store import ConversationStore
from app.store.pending_writes import DISK_FULL
from tests.support.disks import FullDisk
from tests.ui.conftest import load, wait_reply
from tests.ui.test_chat_window import start_long_reply, type_and_send


def on_disk(chat_id: int):
    """What another process would read now."""
    return ConversationStore(paths.database_path()).messages(chat_id)


def test_sending_on_a_full_disk_keeps_the_message_and_retry_saves_it(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0), emit=True)
    window.new_chat()
    disk = FullDisk(window.store.store)
    disk.fill()
    type_and_send(qtbot, page, "Hello")
    assert page.messages.item(0).content == "Hello"  # on screen and in memory
    assert page.save_banner.isVisible() and page.save_banner.message.text() == DISK_FULL
    wait_reply(qtbot, page)
    reply = page.messages.item(1)
    assert reply.content == " Hello world" and not reply.streaming and reply.stats["completion_tokens"] == 2
    assert "writing" not in page.view.cards()[1].title.text()
    assert on_disk(page.chat_id) == []
    disk.free()
    qtbot.mouseClick(page.save_banner.retry_button, Qt.MouseButton.LeftButton)
    saved = on_disk(page.chat_id)
    assert [(m.role, m.content, m.complete) for m in saved] == [("user", "Hello", True),
                                                              ("assistant", " Hello world", True)]
    assert saved[1].stats["completion_tokens"] == 2
    assert not page.save_banner.isVisible()


def test_a_disk_that_fills_mid_reply_ends_the_reply_and_saves_it_once_freed(qtbot, window, tiny_model):
    page = start_long_reply(qtbot, window, tiny_model, n_ctx=1024, max_tokens=400)
    disk = FullDisk(window.store.store)
    disk.fill()
    wait_reply(qtbot, page)  # the end is handled: never stuck in "writing…"
    reply = page.messages.item(1)
    assert reply.stats["completion_tokens"] == 400 and not reply.streaming
    assert page.composer.send_button.isVisible()
    assert page.save_banner.isVisible() and page.save_banner.timer.isActive()
    assert not on_disk(page.chat_id)[1].complete  # not marked finished while it is not saved
    attempts = disk.attempts
    page.save_banner.timer.setInterval(20)  # the periodic retry, without waiting 5 s
    qtbot.waitUntil(lambda: disk.attempts > attempts, timeout=3000)
    disk.free()
    qtbot.waitUntil(lambda: not page.save_banner.isVisible(), timeout=3000)
    saved = on_disk(page.chat_id)[1]
    assert saved.complete and saved.content == reply.content and saved.stats["completion_tokens"] == 400


def test_a_stalled_stream_is_saved_within_a_second(qtbot, window, scripted_model, monkeypatch):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    monkeypatch.setattr(page.engine, "chat", lambda *args, **kwargs: 4242)  # a job that sends nothing itself
    type_and_send(qtbot, page, "Hello")
    assert page.streaming
    page.engine.token.emit(4242, "Half a sentence and then", 5)  # ... the engine stalls
    qtbot.waitUntil(lambda: on_disk(page.chat_id)[1].content == "Half a sentence and then", timeout=3000)
    page.engine.failed.emit(4242, ErrorKind.INTERNAL, "Stopped by you.")
    assert not page.streaming


def test_a_chat_that_cannot_be_read_leaves_the_previous_one_on_screen(qtbot, window, monkeypatch):
    store = window.store
    first = store.create_chat("First")
    store.add_message(first.id, "user", "first question")
    second = store.create_chat("Damaged")
    window.sidebar.refresh()
    window.sidebar.select(first.id)
    page = window.chat_page
    assert page.chat_id == first.id
    raw_messages = store.store.messages

    def messages(chat_id):
        if chat_id == second.id:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return raw_messages(chat_id)

    monkeypatch.setattr(store.store, "messages", messages)
    window.sidebar.select(second.id)
    assert page.chat_id == first.id and page.title.text() == "First"
    assert [i.content for i in page.messages.items()] == ["first question"]
    assert "Could not open that chat" in page.notice.text() and "malformed" in page.notice.text()
    qtbot.waitUntil(lambda: window.sidebar.current_chat() == first.id, timeout=2000)


def test_a_long_unbreakable_title_is_elided_and_never_widens_the_window(qtbot, window):
    chat = window.store.create_chat("x" * 3000)
    page = window.chat_page
    width, narrowest = window.width(), page.minimumSizeHint().width()
    window.sidebar.refresh()
    window.sidebar.select(chat.id)
    window.show_page(window.chat_page)
    qtbot.waitUntil(lambda: window.chat_page.title.isVisible() and window.chat_page.title.width() > 0)
    assert window.chat_page.title.text() == "x" * 3000
    assert page.title.minimumSizeHint().width() < 100 and page.title.sizeHint().width() < 100
    assert page.minimumSizeHint().width() == narrowest and window.width() == width
    assert window.chat_page.title.elided_text().endswith("…")
    chats = window.sidebar.list  # the sidebar elides it too
    row = chats.visualRect(window.sidebar.model.index(window.sidebar.model.row_of(chat.id)))
    assert row.width() <= chats.viewport().width() and chats.horizontalScrollBar().maximum() == 0


def test_an_unreadable_chat_list_at_start_is_a_status_line_not_a_traceback(qtbot, make_window, monkeypatch):
    seed = ConversationStore(paths.database_path())
    seed.create_chat("Hidden by damage")
    seed.close()

    def damaged(self, search=""):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(ConversationStore, "chats", damaged)
    window = make_window()
    assert "Could not read the list of chats" in window.statusBar().currentMessage()
    assert window.sidebar.model.rowCount() == 0
