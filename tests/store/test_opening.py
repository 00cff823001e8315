"""Opening the chat database: damaged files are kept, unwritable folders are named."""

from __future__ import annotations

import os

import pytest

from app import paths
from app.store import ConversationStore
from app.store.opening import StoreOpenError, open_read_only, open_store, set_aside
from tests.support.disks import read_only


def test_random_bytes_are_reported_as_damaged_and_set_aside_not_deleted():
    path = paths.database_path()
    junk = os.urandom(8192)
    path.write_bytes(junk)
    with pytest.raises(StoreOpenError) as caught:
        open_store(path)
    assert caught.value.damaged and str(path) in str(caught.value)
    with pytest.raises(StoreOpenError):
        open_read_only(path)  # nothing readable in random bytes
    kept = set_aside(path)
    assert kept.read_bytes() == junk and kept.name.startswith("conversations.sqlite3.damaged-")
    fresh = open_store(path)
    assert fresh.chats() == []


def test_a_read_only_folder_is_named_and_its_chats_can_still_be_read():
    path = paths.database_path()
    store = ConversationStore(path)
    chat = store.create_chat("Kept")
    store.add_message(chat.id, "user", "still here")
    store.close()
    with read_only(path.parent):
        with pytest.raises(StoreOpenError) as caught:
            open_store(path)
        assert not caught.value.damaged and caught.value.can_read_only
        assert "cannot write" in str(caught.value)
        readable = open_read_only(path)
        assert [m.content for m in readable.messages(chat.id)] == ["still here"]
        readable.close()


def test_a_home_that_cannot_be_made_is_not_damaged(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HEARTH_HOME", str(blocker / "home"))
    with pytest.raises(StoreOpenError) as caught:
        open_store(paths.database_path())
    assert not caught.value.damaged and not caught.value.can_read_only


def test_reading_paths_creates_no_folders(hearth_home):
    paths.database_path(create=False)
    paths.models_dir(create=False)
    paths.settings_path(create=False)
    assert list(hearth_home.iterdir()) == []
