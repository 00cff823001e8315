"""Every write through the one writer says what it changed and announces it on the hub."""

from __future__ import annotations

import sqlite3

import pytest

from app import paths
from app.store import ConversationStore
from app.store.changes import Change, ChangeHub
from app.store.pending_writes import PendingWrites
from tests.support.disks import FullDisk


def writer() -> tuple[PendingWrites, list[Change]]:
    hub = ChangeHub()
    heard: list[Change] = []
    hub.subscribe(heard.extend)
    return PendingWrites(ConversationStore(paths.database_path()), hub), heard


def test_each_write_returns_and_announces_what_it_changed():
    writes, heard = writer()
    chat = writes.create_chat("Hello")
    assert heard == [Change("created", "chat", chat.id)]
    question = writes.add_message(chat.id, "user", "Q")
    assert heard[-2:] == [Change("created", "message", question.id), Change("updated", "chat", chat.id)]
    assert writes.update_message(question.id, content="Q!") == (Change("updated", "message", question.id),)
    assert writes.update_chat(chat.id, title="Renamed") == (Change("updated", "chat", chat.id),)
    other = writes.add_message(chat.id, "user", "Q2", parent_id=None)
    assert writes.select_alternative(question.id) == (Change("updated", "message", question.id),
                                                      Change("updated", "chat", chat.id))
    assert [m.content for m in writes.messages(chat.id)] == ["Q!"] and other.alternatives == 2
    assert writes.delete_messages_from(chat.id, 0) == (Change("updated", "chat", chat.id),)
    comparison = writes.create_comparison("Compare")
    column = writes.add_column(comparison.id, "/m.gguf")
    assert Change("created", "comparison", comparison.id) in heard
    assert heard[-2:] == [Change("created", "chat", column.chat_id), Change("updated", "comparison", comparison.id)]
    assert writes.delete_comparison(comparison.id) == (Change("deleted", "comparison", comparison.id),)
    assert writes.delete_chat(chat.id) == (Change("deleted", "chat", chat.id),)
    assert writes.chats() == [] and writes.comparisons() == []


def test_a_waiting_write_is_announced_when_accepted_and_a_refused_write_now_is_not():
    writes, heard = writer()
    chat = writes.create_chat("Full")
    disk = FullDisk(writes.store)
    disk.fill()
    writes.update_chat(chat.id, title="Waits")
    assert heard[-1] == Change("updated", "chat", chat.id) and writes.pending == 1
    assert writes.chat(chat.id).title == "Waits"  # reads show it already
    before = list(heard)
    with pytest.raises(sqlite3.OperationalError):
        writes.create_comparison("Refused")
    with pytest.raises(sqlite3.OperationalError):
        writes.delete_comparison(1)
    assert heard == before and writes.comparisons() == []
    disk.free()
    assert writes.retry() and heard == before  # written now: nothing new to announce


def test_one_writer_per_store_and_unsubscribing_stops_the_calls():
    store = ConversationStore(paths.database_path())
    hub = ChangeHub()
    writes = PendingWrites(store, hub)
    assert PendingWrites.of(store) is writes and PendingWrites.of(writes) is writes
    with pytest.raises(ValueError, match="already has its writer"):
        PendingWrites(store)
    heard: list[Change] = []
    hub.subscribe(heard.extend)
    writes.create_chat("one")
    hub.unsubscribe(heard.extend)
    writes.create_chat("two")
    assert len(heard) == 1


def test_settings_saves_announce_the_models_whose_settings_changed_and_the_rest(tmp_path):
    from app import model_defaults
    from app.engine import SamplingParams
    from app.settings import Settings

    hub = ChangeHub()
    heard: list[Change] = []
    hub.subscribe(heard.extend)
    settings = Settings.load(tmp_path / "settings.json")
    settings.announce_to(hub)
    settings.save(tmp_path / "settings.json")
    assert heard == []  # nothing changed
    model_defaults.remember_sampling(settings.model_defaults, "/models/a.gguf", SamplingParams(temperature=0.2))
    settings.save(tmp_path / "settings.json")
    assert heard == [Change("updated", "model", "/models/a.gguf")]
    settings.hub_sort = "likes"
    settings.save(tmp_path / "settings.json")
    assert heard[1:] == [Change("updated", "settings", "app")]
    assert Settings.load(tmp_path / "settings.json").hub_sort == "likes"
