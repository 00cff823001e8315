"""The chat page when the disk fills, the database fails a read, or a stream stalls."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from PySide6.QtCore import QObject, Qt, Signal

from app import paths
from app.engine import SamplingParams
from app.engine.protocol import Done, ErrorKind, ModelInfo, Stats
from app.store import ConversationStore
from app.store.pending_writes import DISK_FULL
from tests.support.disks import FullDisk
from tests.ui.chat.test_chat_page import start_long_reply, type_and_send
from tests.ui.conftest import load, wait_reply


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


# ---------------------------------------------------------------- sessions on their own (no window)


class FakeEngineService(QObject):
    """EngineService's public surface: jobs get ids, events are emitted by the test."""

    loaded = Signal(object)
    token = Signal(int, str, int)
    reasoning = Signal(int, str, int)
    reading = Signal(int, int, int)
    finished = Signal(int, object)
    failed = Signal(int, object, str)
    counted = Signal(int, object)
    count_failed = Signal(int, str)

    def __init__(self, first_job: int) -> None:
        super().__init__()
        self.info = ModelInfo("/m.gguf", "Fake", "llama", 1, 1, 4096, 4096, 1, 0, 10, "gguf", None, 0.0)
        self.next_id = first_job
        self.chats: list[tuple] = []
        self.cancelled = 0

    def _job(self) -> int:
        self.next_id += 1
        return self.next_id

    def chat(self, messages, sampling, overflow, thinking="default") -> int:
        self.chats.append((tuple(messages), thinking))
        return self._job()

    def count(self, *args) -> int:
        return self._job()

    def cancel(self) -> None:
        self.cancelled += 1


def test_two_sessions_stream_side_by_side_and_take_only_their_own_events(qtbot, tmp_path):
    from app.ui.chat.chat_session import ChatSession

    store = ConversationStore(tmp_path / "chats.db")
    left_engine, right_engine = FakeEngineService(100), FakeEngineService(100)  # the same job ids on purpose
    left, right = ChatSession(store, left_engine), ChatSession(store, right_engine)
    done: list[str] = []
    left.reply_finished.connect(lambda d: done.append(f"left:{d.text}"))
    right.reply_finished.connect(lambda d: done.append(f"right:{d.text}"))
    assert left.send("Capital of France?") and right.send("Capital of Italy?")
    assert left.chat_id != right.chat_id and left.streaming and right.streaming
    left_job, right_job = left._stream.job, right._stream.job
    left_engine.token.emit(left_job, "Paris", 1)
    right_engine.token.emit(right_job, "Rome", 1)
    left_engine.token.emit(999, "stray", 2)  # another session's job on the same engine: ignored
    left.flush_pending()
    right.flush_pending()
    assert left.messages.item(1).content == "Paris" and right.messages.item(1).content == "Rome"
    left_engine.finished.emit(left_job, Done(left_job, Stats(completion_tokens=1), "Paris."))
    assert done == ["left:Paris."] and not left.streaming and right.streaming
    right_engine.finished.emit(right_job, Done(right_job, Stats(completion_tokens=1), "Rome."))
    assert done == ["left:Paris.", "right:Rome."]
    assert [m.content for m in store.messages(left.chat_id)] == ["Capital of France?", "Paris."]
    assert [m.content for m in store.messages(right.chat_id)] == ["Capital of Italy?", "Rome."]


def test_regenerate_and_edit_add_alternatives_and_the_chat_goes_on_from_the_shown_one(qtbot, tmp_path):
    from app.ui.chat.chat_session import ChatSession

    store = ConversationStore(tmp_path / "chats.db")
    engine = FakeEngineService(0)
    session = ChatSession(store, engine)
    chat = store.create_chat("Old chat")
    for role, text in (("user", "hello"), ("assistant", "hi"), ("user", "and now?"), ("assistant", "now this")):
        store.add_message(chat.id, role, text)
    assert session.open(chat.id)
    assert [i.position for i in session.messages.items()] == [0, 1, 2, 3]
    assert session.regenerate(1)
    engine.finished.emit(session._stream.job, Done(session._stream.job, Stats(), "hello to you"))
    assert [m.content for m in store.messages(chat.id)] == ["hello", "hello to you"]
    assert engine.chats[-1][0][-1].content == "hello"  # the reply is written for the history up to it
    assert (session.messages.item(1).alternative, session.messages.item(1).alternatives) == (2, 2)
    assert session.show_alternative(1, -1)  # back to "hi": its continuation comes back
    assert [i.content for i in session.messages.items()] == ["hello", "hi", "and now?", "now this"]
    assert not session.show_alternative(1, -1)  # nothing before the first
    assert session.send("and then?")  # the conversation goes on from the alternative shown
    assert [m.content for m in engine.chats[-1][0]] == ["hello", "hi", "and now?", "now this", "and then?"]
    engine.finished.emit(session._stream.job, Done(session._stream.job, Stats(), "then that"))
    assert session.replace_user_message(0, "bonjour")
    assert [m.content for m in store.messages(chat.id)] == ["bonjour", ""]  # the new reply is under way
    assert engine.chats[-1][0][-1].content == "bonjour"
    assert not session.show_alternative(0, -1)  # not while the reply streams here
    engine.finished.emit(session._stream.job, Done(session._stream.job, Stats(), "salut"))
    assert not session.regenerate(0)  # a user message is not regenerated
    reopened = ChatSession(ConversationStore(tmp_path / "chats.db"), FakeEngineService(0))
    assert reopened.open(chat.id)  # alternatives survive a restart
    assert [(i.content, i.alternative, i.alternatives) for i in reopened.messages.items()] == [
        ("bonjour", 2, 2), ("salut", 1, 1)]
    assert reopened.show_alternative(0, -1)
    assert [i.content for i in reopened.messages.items()] == ["hello", "hi", "and now?", "now this", "and then?",
                                                              "then that"]


def test_a_failed_reply_keeps_its_text_and_says_why_in_plain_words(qtbot, tmp_path):
    from app.ui.chat.chat_session import ChatSession

    store = ConversationStore(tmp_path / "chats.db")
    engine = FakeEngineService(0)
    session = ChatSession(store, engine)
    notices: list[str] = []
    session.notice.connect(notices.append)
    session.send("Tell me a story")
    job = session._stream.job
    engine.token.emit(job, "Once upon", 2)
    engine.failed.emit(job, ErrorKind.CRASHED, "the engine process died")
    assert not session.streaming
    saved = store.messages(session.chat_id)[1]
    assert saved.content == "Once upon" and not saved.complete and "died" in saved.error
    assert "stopped unexpectedly" in notices[-1]
