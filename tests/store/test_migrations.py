"""Every schema that has shipped opens in this build, upgraded with nothing lost; a newer one is refused.

tests/store/shipped/vN.sql are databases written by earlier commits' own store code
(make_shipped.py; the README there says which commit made which).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.store import ConversationStore
from app.store.migrations import version_of
from app.store.opening import StoreOpenError, open_read_only, open_store
from app.store.schema import SCHEMA, VERSION

SHIPPED = Path(__file__).with_name("shipped")
VERSIONS = [1, 2, 3, 4]


def shipped(version: int, folder: Path) -> Path:
    """A database file made from the dump of schema `version`."""
    path = folder / f"v{version}.sqlite3"
    db = sqlite3.connect(path)
    db.executescript((SHIPPED / f"v{version}.sql").read_text(encoding="utf-8"))
    db.close()
    return path


def tables(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Each table's columns (name, type, not null, default, primary key) and each index's definition."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    shape = {n: [tuple(c[1:]) for c in db.execute(f"PRAGMA table_info({n})")] for n in names}
    shape["indexes"] = sorted(tuple(r) for r in db.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall())
    return shape


def shown(store: ConversationStore, chat_id: int) -> list[tuple]:
    return [(m.role, m.content, m.reasoning, m.model, m.complete, m.error, m.alternative, m.alternatives)
            for m in store.messages(chat_id)]


@pytest.mark.parametrize("version", VERSIONS)
def test_each_shipped_database_upgrades_with_nothing_lost(tmp_path, version):
    path = shipped(version, tmp_path)
    raw = sqlite3.connect(path)
    assert version_of(raw) == version and raw.execute("PRAGMA user_version").fetchone()[0] == 0
    raw.close()

    store = ConversationStore(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert store.kept_copy == path.with_name(f"{path.name}.schema-{version}")  # for the Hearth that made it
    old = sqlite3.connect(store.kept_copy)
    assert version_of(old) == version and old.execute("SELECT COUNT(*) FROM messages").fetchone()[0] > 0
    old.close()
    fresh = sqlite3.connect(":memory:")
    fresh.executescript(SCHEMA)
    assert tables(store.db) == tables(fresh)  # upgraded is the same as made new

    tea, second, empty = sorted(store.chats(), key=lambda c: c.id)[:3]
    assert (tea.title, tea.system_prompt, tea.model_path, tea.sampling, tea.overflow) == (
        "Tea “notes” — ünïcode", "You are terse.\nTwo lines.", "/models/tiny.gguf",
        {"temperature": 0.3, "seed": 7}, "stop")
    assert tea.thinking == ("off" if version >= 2 else "default")
    assert shown(store, tea.id) == [
        ("user", "How long to steep green tea?", "", "", True, "", 1, 1),
        ("assistant", "Two to three minutes at 80 °C.",
         "Green tea: lower temperature, short time." if version >= 2 else "", "Tiny 1B", True, "", 1, 1),
        ("user", "And black tea? 'quotes' and \"doubles\"", "", "", True, "", 1, 1),
        ("assistant", "Four minutes, boiling.", "", "Tiny 1B", False, "Stopped: cancelled", 1, 1),
    ]
    reply = store.messages(tea.id)[1]
    assert reply.stats == {"completion_tokens": 12, "decode_tok_s": 40.5, "stop_reason": "stop"}
    assert reply.sampling == {"temperature": 0.3}
    assert [m.parent_id for m in store.messages(tea.id)][1:] == [m.id for m in store.messages(tea.id)][:-1]
    assert (empty.title, store.messages(empty.id)) == ("Empty chat", [])
    assert [c.id for c in store.chats("needle")] == [second.id]  # search still reads the text

    texts = [m.content for m in store.messages(second.id)]
    if version >= 3:  # the branches, each with its choice, as they were
        assert texts == ["A system line kept as a message", "searchable needle here", "first answer"]
        assert store.messages(second.id)[1].alternatives == 2 and store.messages(second.id)[2].alternatives == 2
        every = {m.content: m for m in store.all_messages(second.id)}
        store.select_alternative(every["second answer"].id)
        assert [m.content for m in store.messages(second.id)][2:] == ["second answer", "follow-up on the second"]
        store.select_alternative(every["an edited question"].id)
        assert [m.content for m in store.messages(second.id)][1:] == ["an edited question", "answer to the edit"]
    else:
        assert texts == ["A system line kept as a message", "searchable needle here", "plain answer"]

    if version >= 4:
        saved = store.comparisons()
        assert [c.title for c in saved] == ["Empty comparison", "Tea models"]
        tea_models = saved[1]
        assert tea_models.run_mode == "together" and len(tea_models.columns) == 2
        column = tea_models.columns[0]
        assert (column.model_path, column.load, column.sampling) == ("/models/a.gguf", {"n_ctx": 4096},
                                                                     {"temperature": 0.5})
        assert [m.content for m in store.messages(column.chat_id)] == ["Same prompt", "reply from /models/a.gguf"]
        assert all(c.comparison_id == 0 for c in store.chats())  # the columns stay out of the chat list
    store.close()

    upgraded = shown(ConversationStore(path), tea.id)
    again = ConversationStore(path)  # reopening is a no-op
    assert again.db.total_changes == 0 and shown(again, tea.id) == upgraded and again.kept_copy is None
    again.close()
    assert version_of(sqlite3.connect(path)) == VERSION


@pytest.mark.parametrize("version", VERSIONS)
def test_a_shipped_database_opened_read_only_is_read_upgraded_and_left_as_it_was(tmp_path, version):
    path = shipped(version, tmp_path)
    before = path.read_bytes()
    store = open_read_only(path)
    tea = min(store.chats(), key=lambda c: c.id)
    assert store.messages(tea.id)[0].content == "How long to steep green tea?"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):  # never written, not even to the copy
        store.update_chat(tea.id, title="Lost")
    store.close()
    assert path.read_bytes() == before and version_of(sqlite3.connect(path)) == version


def test_a_database_from_a_newer_hearth_is_refused_with_a_sentence_and_not_changed(tmp_path):
    path = tmp_path / "chats.sqlite3"
    store = ConversationStore(path)
    chat = store.create_chat("From the future")
    store.add_message(chat.id, "user", "still readable")
    store.db.execute(f"PRAGMA user_version = {VERSION + 1}")
    store.close()
    before = path.read_bytes()
    with pytest.raises(StoreOpenError) as caught:
        open_store(path)
    error = caught.value
    assert error.newer and not error.damaged and error.can_read_only
    assert "newer Hearth" in str(error) and "read-only" in str(error) and f"version {VERSION + 1}" in str(error)
    assert path.read_bytes() == before
    readable = open_read_only(path)
    assert [m.content for m in readable.messages(chat.id)] == ["still readable"]
    readable.close()
    assert path.read_bytes() == before and sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == \
        VERSION + 1


def test_a_failed_step_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    from app.store import migrations

    path = shipped(3, tmp_path)
    before = sqlite3.connect(path).execute("SELECT * FROM messages").fetchall()

    def broken(db):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(migrations.STEPS, 5, broken)
    with pytest.raises(StoreOpenError):
        open_store(path)
    db = sqlite3.connect(path)
    assert version_of(db) == 3 and db.execute("SELECT * FROM messages").fetchall() == before
