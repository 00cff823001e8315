"""Writes that fail wait in memory, in order, and reach the disk on retry."""

from __future__ import annotations

import sqlite3

from app import paths
from app.store import ConversationStore
from app.store.pending_writes import DISK_FULL, PendingWrites, describe_write_error
from tests.support.disks import FullDisk, fill_up, small_tmpfs


def test_a_full_disk_keeps_messages_readable_and_retry_writes_them_in_order():
    raw = ConversationStore(paths.database_path())
    store = PendingWrites(raw)
    seen: list[str] = []
    store.listen(seen.append)
    chat = store.create_chat("Trip")
    disk = FullDisk(raw)
    disk.fill()
    question = store.add_message(chat.id, "user", "Where to?")
    reply = store.add_message(chat.id, "assistant", "", model="Tiny", complete=False)
    for text in ("Par", "Paris", "Paris, then Lyon"):
        store.update_message(reply.id, content=text)
    store.update_message(reply.id, stats={"completion_tokens": 4}, complete=True)
    store.update_chat(chat.id, title="Where to?")

    assert seen == [DISK_FULL] and store.problem == DISK_FULL
    assert store.pending == 4  # the streaming updates became one
    shown = store.messages(chat.id)
    assert [(m.id, m.role, m.content, m.complete) for m in shown] == [
        (question.id, "user", "Where to?", True), (reply.id, "assistant", "Paris, then Lyon", True)]
    assert store.chat(chat.id).title == "Where to?" and [c.title for c in store.chats()] == ["Where to?"]
    assert raw.messages(chat.id) == []  # nothing on disk, nothing marked finished there

    assert not store.retry() and store.pending == 4  # still full: kept, in order
    disk.free()
    assert store.retry() and store.pending == 0 and store.problem == "" and seen == [DISK_FULL, ""]
    reopened = ConversationStore(paths.database_path())
    saved = reopened.messages(chat.id)
    assert [(m.id, m.content, m.complete, m.stats) for m in saved] == [
        (question.id, "Where to?", True, {}), (reply.id, "Paris, then Lyon", True, {"completion_tokens": 4})]
    assert reopened.chat(chat.id).title == "Where to?"


def test_pending_deletes_apply_to_what_is_shown():
    raw = ConversationStore(paths.database_path())
    store = PendingWrites(raw)
    chat = store.create_chat("Edit me")
    store.add_message(chat.id, "user", "one")
    store.add_message(chat.id, "assistant", "two")
    disk = FullDisk(raw)
    disk.fill()
    store.delete_messages_from(chat.id, 1)
    store.add_message(chat.id, "assistant", "three")
    assert [(m.position, m.content) for m in store.messages(chat.id)] == [(0, "one"), (1, "three")]
    disk.free()
    assert store.retry()
    assert [(m.position, m.content) for m in raw.messages(chat.id)] == [(0, "one"), (1, "three")]


def test_write_errors_read_plainly():
    assert describe_write_error(sqlite3.OperationalError("database or disk is full")) == DISK_FULL
    assert describe_write_error(OSError(28, "No space left on device")) == DISK_FULL
    assert "read-only" in describe_write_error(sqlite3.OperationalError("attempt to write a readonly database"))


def test_a_real_full_disk_loses_nothing(tmp_path):
    with small_tmpfs(tmp_path / "disk", "2m") as disk:
        raw = ConversationStore(disk / "chats.sqlite3")
        store = PendingWrites(raw)
        chat = store.create_chat("Full")
        filler = fill_up(disk)
        reply = store.add_message(chat.id, "assistant", "", complete=False)
        text = ""
        for i in range(200):  # enough text to need new pages
            text += f"sentence {i} of a reply that keeps going. "
            store.update_message(reply.id, content=text)
        store.update_message(reply.id, complete=True)
        assert store.problem == DISK_FULL, store.problem
        assert store.messages(chat.id)[0].content == text
        filler.unlink()
        assert store.retry(), store.problem
        raw.close()
        saved = ConversationStore(disk / "chats.sqlite3").messages(chat.id)
        assert [(m.content, m.complete) for m in saved] == [(text, True)]


def test_a_chat_started_on_a_full_disk_is_listed_and_saved_later():
    raw = ConversationStore(paths.database_path())
    store = PendingWrites(raw)
    old = store.create_chat("Old")
    disk = FullDisk(raw)
    disk.fill()
    new = store.create_chat("New chat", sampling={"temperature": 0.1})
    store.add_message(new.id, "user", "hi")
    store.update_chat(new.id, title="hi")
    assert new.id > old.id and [c.title for c in store.chats()] == ["hi", "Old"]
    assert store.chat(new.id).sampling == {"temperature": 0.1}
    assert [m.content for m in store.messages(new.id)] == ["hi"]
    disk.free()
    assert store.retry()
    assert raw.chat(new.id).title == "hi" and [m.content for m in raw.messages(new.id)] == ["hi"]
