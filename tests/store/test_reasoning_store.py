"""A reply's thinking and a chat's Thinking switch are stored, migrated and exported."""

import json
import sqlite3

from app import paths
from app.store import ConversationStore
from app.store.export import chat_to_json, chat_to_markdown

OLD_SCHEMA = """
CREATE TABLE chats (id INTEGER PRIMARY KEY, title TEXT NOT NULL, system_prompt TEXT NOT NULL DEFAULT '',
    model_path TEXT NOT NULL DEFAULT '', sampling TEXT NOT NULL DEFAULT '{}',
    overflow TEXT NOT NULL DEFAULT 'truncate_middle', created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',
    sampling TEXT NOT NULL DEFAULT '{}', stats TEXT NOT NULL DEFAULT '{}', complete INTEGER NOT NULL DEFAULT 1,
    error TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
INSERT INTO chats VALUES (1, 'Before thinking', '', '', '{}', 'truncate_middle', 1.0, 1.0);
INSERT INTO messages VALUES (1, 1, 0, 'user', 'hi', '', '{}', '{}', 1, '', 1.0);
INSERT INTO messages VALUES (2, 1, 1, 'assistant', 'hello', 'Tiny', '{}', '{}', 1, '', 2.0);
"""


def test_reasoning_and_thinking_round_trip():
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Think")
    store.update_chat(chat.id, thinking="off")
    reply = store.add_message(chat.id, "assistant", "", complete=False)
    store.update_message(reply.id, reasoning="step one", content="Answer")
    again = ConversationStore(paths.database_path())
    assert again.chat(chat.id).thinking == "off"
    [message] = again.messages(chat.id)
    assert (message.reasoning, message.content) == ("step one", "Answer")


def test_a_database_from_before_reasoning_opens_and_keeps_everything(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.commit()
    db.close()
    store = ConversationStore(path)
    assert [(m.role, m.content, m.reasoning) for m in store.messages(1)] == [
        ("user", "hi", ""), ("assistant", "hello", "")]
    assert store.chat(1).thinking == "default"
    store.add_message(1, "assistant", "new", reasoning="pondered")
    assert store.messages(1)[-1].reasoning == "pondered"
    ConversationStore(path)  # opening again adds nothing twice


def test_export_includes_thinking():
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Export")
    store.add_message(chat.id, "user", "Hello")
    store.add_message(chat.id, "assistant", "Hello world", model="Tiny", reasoning="the user chat",
                      stats={"reasoning_tokens": 5, "reasoning_s": 0.25})
    store.add_message(chat.id, "assistant", "No thoughts")
    messages = store.messages(chat.id)
    md = chat_to_markdown(store.chat(chat.id), messages)
    assert ("## Assistant (Tiny)\n\n<details>\n<summary>Thinking (5 tokens, 0.2 s)</summary>\n\nthe user chat\n\n"
            "</details>\n\nHello world\n") in md
    assert md.count("<details>") == 1
    data = json.loads(chat_to_json(store.chat(chat.id), messages))
    assert data["messages"][1]["parts"] == [{"type": "thinking", "text": "the user chat"},
                                            {"type": "text", "text": "Hello world"}]
    assert data["messages"][2]["parts"] == [{"type": "text", "text": "No thoughts"}]
    assert data["thinking"] == "default"
