"""Alternatives: regenerated replies and edited questions are kept as branches of the chat's tree."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app import paths
from app.store import ConversationStore
from app.store.export import chat_to_json, chat_to_markdown
from app.store.importing import ChatImportError, import_chat
from app.store.pending_writes import PendingWrites


def conversation(store: ConversationStore):
    """Q1 → A1 (then A1b regenerated) → Q2 → A2."""
    chat = store.create_chat("Branches")
    q1 = store.add_message(chat.id, "user", "Q1")
    a1 = store.add_message(chat.id, "assistant", "A1", model="Tiny")
    store.add_message(chat.id, "user", "Q2")
    store.add_message(chat.id, "assistant", "A2", model="Tiny")
    a1b = store.add_message(chat.id, "assistant", "A1b", model="Other", parent_id=q1.id,
                            sampling={"temperature": 0.2})
    return chat, q1, a1, a1b


def contents(store, chat_id):
    return [m.content for m in store.messages(chat_id)]


def test_regenerating_adds_an_alternative_and_the_conversation_continues_from_it():
    store = ConversationStore(paths.database_path())
    chat, q1, a1, a1b = conversation(store)
    assert contents(store, chat.id) == ["Q1", "A1b"]
    shown = store.messages(chat.id)[1]
    assert (shown.alternative, shown.alternatives, shown.model, shown.sampling) == (2, 2, "Other", {"temperature": 0.2})
    store.select_alternative(a1.id)  # ‹ back to the first reply: its own continuation comes back
    assert contents(store, chat.id) == ["Q1", "A1", "Q2", "A2"]
    assert [m.content for m in store.alternatives(a1.id)] == ["A1", "A1b"]
    store.add_message(chat.id, "user", "Q3")  # continues the shown branch
    assert contents(store, chat.id) == ["Q1", "A1", "Q2", "A2", "Q3"]


def test_editing_a_question_keeps_the_old_branch_reachable():
    store = ConversationStore(paths.database_path())
    chat, q1, a1, a1b = conversation(store)
    store.select_alternative(a1.id)
    q2 = store.messages(chat.id)[2]
    store.add_message(chat.id, "user", "Q2 edited", parent_id=q2.parent_id)
    store.add_message(chat.id, "assistant", "A2 edited")
    assert contents(store, chat.id) == ["Q1", "A1", "Q2 edited", "A2 edited"]
    store.select_alternative(q2.id)
    assert contents(store, chat.id) == ["Q1", "A1", "Q2", "A2"]
    first = store.add_message(chat.id, "user", "Another start", parent_id=None)  # editing the first message
    assert contents(store, chat.id) == ["Another start"] and first.alternatives == 2


def test_alternatives_survive_a_restart_and_an_old_database_is_linked_as_a_list():
    path = paths.database_path()
    store = ConversationStore(path)
    chat, q1, a1, a1b = conversation(store)
    store.close()
    again = ConversationStore(path)
    assert contents(again, chat.id) == ["Q1", "A1b"] and len(again.all_messages(chat.id)) == 5
    again.close()
    # A database from before branching: no parent_id or chosen column.
    old = paths.database_path().with_name("old.db")
    db = sqlite3.connect(old)
    db.executescript("""
        CREATE TABLE chats (id INTEGER PRIMARY KEY, title TEXT NOT NULL, system_prompt TEXT NOT NULL DEFAULT '',
            model_path TEXT NOT NULL DEFAULT '', sampling TEXT NOT NULL DEFAULT '{}',
            overflow TEXT NOT NULL DEFAULT 'truncate_middle', created REAL NOT NULL, updated REAL NOT NULL);
        CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, position INTEGER NOT NULL,
            role TEXT NOT NULL, content TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',
            sampling TEXT NOT NULL DEFAULT '{}', stats TEXT NOT NULL DEFAULT '{}',
            complete INTEGER NOT NULL DEFAULT 1, error TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
        INSERT INTO chats VALUES (1, 'Old', '', '', '{}', 'truncate_middle', 0, 0);
        INSERT INTO messages(id, chat_id, position, role, content, created) VALUES
            (10, 1, 0, 'user', 'hi', 0), (11, 1, 1, 'assistant', 'hello', 0), (12, 1, 2, 'user', 'more', 0);
    """)
    db.commit()
    db.close()
    upgraded = ConversationStore(old)
    assert contents(upgraded, 1) == ["hi", "hello", "more"]
    assert [m.parent_id for m in upgraded.messages(1)] == [None, 10, 11]


def test_markdown_export_marks_the_chosen_alternative_and_folds_the_others():
    store = ConversationStore(paths.database_path())
    chat, q1, a1, a1b = conversation(store)
    md = chat_to_markdown(store.chat(chat.id), store.all_messages(chat.id))
    assert "## Assistant (Other) · alternative 2 of 2, chosen\n\nA1b" in md
    assert "<summary>1 other alternative (not chosen)</summary>" in md
    assert "### Assistant (Tiny) · alternative 1 of 2\n\nA1" in md
    assert "\n## You\n\nQ2" not in md  # the branch not shown is folded, not mixed into the conversation
    assert "### You\n\nQ2" in md and "### Assistant (Tiny)\n\nA2" in md  # folded with its continuation


def test_json_export_round_trips_every_branch_and_the_choice():
    store = ConversationStore(paths.database_path())
    chat, q1, a1, a1b = conversation(store)
    exported = chat_to_json(store.chat(chat.id), store.all_messages(chat.id))
    data = json.loads(exported)
    assert [m["content"] for m in data["messages"]] == ["Q1", "A1b"]
    assert sorted(m["content"] for m in data["alternatives"]) == ["A1", "A2", "Q2"]
    copy = import_chat(store, exported)
    assert copy.id != chat.id and copy.title == "Branches"
    assert contents(store, copy.id) == ["Q1", "A1b"]
    shown = store.messages(copy.id)[1]
    assert (shown.alternative, shown.alternatives) == (2, 2)
    again = json.loads(chat_to_json(store.chat(copy.id), store.all_messages(copy.id)))

    def shape(d):  # ids differ after import; what they say and how they hang together does not
        everything = d["messages"] + d["alternatives"]
        text = {m["id"]: m["content"] for m in everything}
        siblings = {m["id"]: sorted(o["id"] for o in everything if o["parent"] == m["parent"]) for m in everything}
        return sorted((text.get(m["parent"], ""), siblings[m["id"]].index(m["id"]), m["role"], m["content"], m["model"],
                       json.dumps(m["sampling"])) for m in everything), [m["content"] for m in d["messages"]]

    assert shape(again) == shape(data)


def deep_tree(store: ConversationStore):
    """Q1 → (A1 → Q2 → A2 | A1b) with A1 chosen; then Q1 edited to Q1b → B1, shown. The old branch
    keeps a choice of its own (A1, not the newer A1b) that is off the conversation shown."""
    chat, q1, a1, a1b = conversation(store)
    store.select_alternative(a1.id)
    q1b = store.add_message(chat.id, "user", "Q1b", parent_id=None)
    store.add_message(chat.id, "assistant", "B1")
    return chat, q1, q1b


def test_both_exports_keep_every_branch_of_a_deeper_tree_and_every_choice():
    store = ConversationStore(paths.database_path())
    chat, q1, q1b = deep_tree(store)
    assert contents(store, chat.id) == ["Q1b", "B1"]
    md = chat_to_markdown(store.chat(chat.id), store.all_messages(chat.id))
    for text in ("Q1", "A1", "Q2", "A2", "A1b", "Q1b", "B1"):
        assert f"\n\n{text}\n" in md, text
    assert "### Assistant (Tiny) · alternative 1 of 2, chosen\n\nA1" in md
    assert md.count("<details>") == 2 and md.index("\n\nA1\n") < md.index("\n\nA1b\n") < md.index("\n\nQ2\n")
    copy = import_chat(store, chat_to_json(store.chat(chat.id), store.all_messages(chat.id)))
    assert contents(store, copy.id) == ["Q1b", "B1"]
    old_first = store.messages(copy.id)[0].id
    store.select_alternative(next(m.id for m in store.all_messages(copy.id) if m.content == "Q1"))
    assert contents(store, copy.id) == ["Q1", "A1", "Q2", "A2"]  # the old branch's own choice came back too
    assert old_first != store.messages(copy.id)[0].id


def test_an_old_linear_export_imports_and_bad_files_are_refused_with_a_sentence():
    store = ConversationStore(paths.database_path())
    old = {"title": "Old", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    chat = import_chat(store, json.dumps(old))
    assert contents(store, chat.id) == ["hi", "yo"]
    before = len(store.chats())
    bad = [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a chat exported by Hearth"),
        (json.dumps({"messages": [{"role": "robot", "content": "x"}]}), "no valid role"),
        (json.dumps({"format": 2, "messages": [{"id": 1, "parent": 7, "role": "user", "content": "x"}]}),
         "not in it"),
        (json.dumps({"format": 2, "messages": [{"id": "a", "role": "user", "content": "x"}]}), "whole number"),
        (json.dumps({"format": 9, "messages": []}), "newer format"),
        (json.dumps({"format": 2, "messages": [{"id": 1, "parent": 2, "role": "user", "content": "x"}],
                     "alternatives": [{"id": 2, "parent": 1, "role": "user", "content": "y"}]}), "loop"),
    ]
    for text, words in bad:
        with pytest.raises(ChatImportError, match=words):
            import_chat(store, text)
    assert len(store.chats()) == before  # nothing half-written


def test_a_queued_alternative_shows_while_the_disk_is_full():
    store = ConversationStore(paths.database_path())
    chat, q1, a1, a1b = conversation(store)
    pending = PendingWrites(store)
    real_add = store.add_message

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    store.add_message = full
    pending.add_message(chat.id, "assistant", "A1c", parent_id=q1.id)
    assert [m.content for m in pending.messages(chat.id)] == ["Q1", "A1c"]
    store.add_message = real_add
    assert pending.retry()
    assert contents(store, chat.id) == ["Q1", "A1c"] and store.messages(chat.id)[1].alternatives == 3
