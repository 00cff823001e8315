"""A message's parts on disk: any kind, in order, read fast, exported and imported unchanged."""

from __future__ import annotations

import json

from app import paths
from app.chat.message import (
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UnknownPart,
)
from app.store import ConversationStore
from app.store.export import chat_to_json, chat_to_markdown
from app.store.importing import import_chat

PARTS = (ThinkingPart("look first"), TextPart("A cat."), ImagePart("ab" * 32, "image/jpeg", 640, 480, "cat.jpg"),
         ToolCallPart("call-1", "search", '{"q": "cats"}'), UnknownPart("hologram", {"frames": [1, 2], "fps": 24}))


def test_parts_of_every_kind_are_stored_in_order_and_text_updates_keep_the_others():
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Parts")
    added = store.add_message(chat.id, "assistant", parts=PARTS, model="Vision")
    assert added.parts == PARTS
    reopened = ConversationStore(paths.database_path())
    assert reopened.messages(chat.id)[0].parts == PARTS  # the unknown kind too, as it was
    store.update_message(added.id, content="A black cat.", reasoning="look closer")
    parts = store.messages(chat.id)[0].parts
    assert parts[:2] == (ThinkingPart("look closer"), TextPart("A black cat."))  # Message.with_text's order
    assert [p for p in parts if not isinstance(p, (TextPart, ThinkingPart))] == list(PARTS[2:])  # kept, in order
    store.update_message(added.id, parts=(TextPart("only text"),))
    assert store.messages(chat.id)[0].parts == (TextPart("only text"),)


def test_content_and_reasoning_are_a_shorthand_for_text_parts_and_search_reads_text_only():
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Shorthand")
    store.add_message(chat.id, "user", "find the needle")
    reply = store.add_message(chat.id, "assistant", "an answer", reasoning="secret haystack")
    assert (reply.content, reply.reasoning) == ("an answer", "secret haystack")
    assert reply.parts == (ThinkingPart("secret haystack"), TextPart("an answer"))
    assert [c.id for c in store.chats("needle")] == [chat.id]
    assert store.chats("haystack") == []  # thinking is not searched, as before
    assert store.chats('"') == [] and store.chats("an answer") != []  # the JSON around the text is not searched


def test_a_chat_is_read_with_two_queries_however_long_it_is():
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Long")
    for i in range(50):
        store.add_message(chat.id, "user" if i % 2 == 0 else "assistant", f"message {i}", reasoning="r" * (i % 2))
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    messages = store.messages(chat.id)
    store.db.set_trace_callback(None)
    assert len(messages) == 50 and messages[-1].content == "message 49" and messages[-1].reasoning == "r"
    assert len(statements) == 2, statements


def test_json_export_writes_parts_and_imports_them_unchanged_with_older_formats_still_read():
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Round trip")
    store.add_message(chat.id, "user", "describe this")
    store.add_message(chat.id, "assistant", parts=PARTS)
    exported = json.loads(chat_to_json(store.chat(chat.id), store.all_messages(chat.id)))
    assert exported["format"] == 3
    assert exported["messages"][1]["parts"][-1] == {"type": "hologram", "frames": [1, 2], "fps": 24}
    copy = import_chat(store, json.dumps(exported))
    assert [m.parts for m in store.messages(copy.id)] == [(TextPart("describe this"),), PARTS]
    assert "A cat." in chat_to_markdown(store.chat(copy.id), store.all_messages(copy.id))

    format_2 = {"format": 2, "title": "Old", "messages": [
        {"id": 1, "parent": None, "role": "user", "content": "hi", "chosen": True},
        {"id": 2, "parent": 1, "role": "assistant", "content": "yo", "reasoning": "greeting", "chosen": True}]}
    old = import_chat(store, json.dumps(format_2))
    assert [m.parts for m in store.messages(old.id)] == [(TextPart("hi"),), (ThinkingPart("greeting"), TextPart("yo"))]
