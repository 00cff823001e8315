"""Conversations in SQLite, export, and settings on disk."""

import json

from app import paths
from app.settings import Settings
from app.store import ConversationStore
from app.store.export import chat_to_json, chat_to_markdown


def make_store() -> ConversationStore:
    return ConversationStore(paths.database_path())


def test_store_uses_wal_and_commits_each_message_at_once():
    store = make_store()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    chat = store.create_chat("First", system_prompt="be brief", sampling={"temperature": 0.2})
    store.add_message(chat.id, "user", "hi")
    reply = store.add_message(chat.id, "assistant", "", model="Tiny", complete=False)
    store.update_message(reply.id, content="partial")
    # a second connection (another process, or the app after a crash) sees it all
    other = make_store()
    messages = other.messages(chat.id)
    assert [(m.role, m.content, m.complete) for m in messages] == [("user", "hi", True),
                                                                     ("assistant", "partial", False)]
    assert other.chat(chat.id).sampling == {"temperature": 0.2}


def test_edit_and_regenerate_remove_later_messages_and_search_finds_text():
    store = make_store()
    chat = store.create_chat("Tokens")
    for i in range(4):
        store.add_message(chat.id, "user" if i % 2 == 0 else "assistant",
                          f"message {i} about llamas" if i == 3 else f"m{i}")
    store.delete_messages_from(chat.id, 2)
    assert [m.position for m in store.messages(chat.id)] == [0, 1]
    store.add_message(chat.id, "user", "new question")
    assert store.messages(chat.id)[-1].position == 2
    store.create_chat("Other")
    assert [c.title for c in store.chats("new question")] == ["Tokens"]
    assert [c.title for c in store.chats("Oth")] == ["Other"]
    store.delete_chat(chat.id)
    assert store.messages(chat.id) == [] and [c.title for c in store.chats()] == ["Other"]


def test_export_markdown_and_json():
    store = make_store()
    chat = store.create_chat("Export me", system_prompt="sys")
    store.add_message(chat.id, "user", "Hello")
    store.add_message(chat.id, "assistant", "**Hi**", model="Tiny", stats={"completion_tokens": 2})
    messages = store.messages(chat.id)
    md = chat_to_markdown(store.chat(chat.id), messages)
    assert md.startswith("# Export me") and "## Assistant (Tiny)\n\n**Hi**" in md and "sys" in md
    data = json.loads(chat_to_json(store.chat(chat.id), messages))
    assert data["messages"][1]["stats"] == {"completion_tokens": 2} and data["system_prompt"] == "sys"


def test_settings_round_trip_atomically_and_survive_a_corrupt_file():
    settings = Settings(n_ctx=8192, flash_attn="on", extra_model_dirs=["/models"])
    settings.save()
    assert Settings.load() == settings
    assert not list(paths.config_dir().glob("*.tmp"))
    paths.settings_path().write_text("{not json")
    assert Settings.load() == Settings()
    paths.settings_path().write_text(json.dumps({"n_ctx": "big", "unknown": 1, "hub_sort": "likes"}))
    loaded = Settings.load()
    assert loaded.n_ctx == Settings().n_ctx and loaded.hub_sort == "likes"
