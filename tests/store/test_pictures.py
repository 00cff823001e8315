"""A chat's pictures in the store: kept once by content hash, exported (Markdown: files beside the .md;
JSON: embedded) and imported back, and deleted with the last chat that names them."""

from __future__ import annotations

import json

import pytest

from app.chat.conversation import Conversation
from app.chat.images import image_part
from app.chat.message import PICTURE_MISSING
from app.store import ConversationStore
from app.store.export import chat_to_json, chat_to_markdown, picture_file
from app.store.importing import ChatImportError, import_chat
from app.store.pending_writes import PendingWrites
from tests.support.tiny_vision import png_bytes


def chat_with_picture(writes: PendingWrites, data: bytes) -> Conversation:
    part = image_part(data, "photo.png")
    assert writes.save_image(data) == part.sha256
    conversation = Conversation.create(writes)
    conversation.add_user("What is this?", attached=[part])
    return conversation


def test_a_picture_is_kept_once_and_goes_with_the_last_chat_naming_it(tmp_path):
    writes = PendingWrites(ConversationStore(tmp_path / "chats.sqlite3"))
    first = chat_with_picture(writes, png_bytes())
    second = chat_with_picture(writes, png_bytes())
    sha = first.messages[0].images[0].sha256
    files = list((tmp_path / "images").rglob("*"))
    assert [f.name for f in files if f.is_file()] == [sha]
    reopened = Conversation.open(writes, first.chat_id)
    assert reopened.messages[0].images[0].name == "photo.png"
    assert reopened.history()[0].images == (png_bytes(),)  # the engine is given the bytes from the folder
    writes.delete_chat(first.chat_id)
    assert writes.read_image(sha) == png_bytes()  # the other chat still names it
    writes.delete_chat(second.chat_id)
    with pytest.raises(KeyError):
        writes.read_image(sha)


def test_exports_carry_the_pictures_and_an_import_brings_them_back(tmp_path):
    writes = PendingWrites(ConversationStore(tmp_path / "a" / "chats.sqlite3"))
    conversation = chat_with_picture(writes, png_bytes(seed=4))
    chat, messages = writes.chat(conversation.chat_id), writes.all_messages(conversation.chat_id)
    part = messages[0].images[0]
    markdown = chat_to_markdown(chat, messages)
    assert f"![photo.png]({picture_file(part)})" in markdown and picture_file(part).endswith(".png")
    exported = chat_to_json(chat, messages, writes.read_image)
    other = PendingWrites(ConversationStore(tmp_path / "b" / "chats.sqlite3"))
    imported = import_chat(other, exported)
    again = other.all_messages(imported.id)
    assert again[0].images == (part,) and other.read_image(part.sha256) == png_bytes(seed=4)
    forged = json.loads(exported)
    forged["messages"][0]["parts"][1]["sha256"] = "0" * 64
    with pytest.raises(ChatImportError, match="checksum"):
        import_chat(other, json.dumps(forged))


def test_a_picture_gone_from_the_folder_is_left_out_with_a_note_not_a_key_error(tmp_path):
    writes = PendingWrites(ConversationStore(tmp_path / "chats.sqlite3"))
    conversation = chat_with_picture(writes, png_bytes(seed=5))
    sha = conversation.messages[0].images[0].sha256
    (tmp_path / "images" / sha[:2] / sha).unlink()  # removed by hand, or by a cleanup gone wrong
    reopened = Conversation.open(writes, conversation.chat_id)
    history = reopened.history()  # (a KeyError here broke every later send in the chat)
    assert history[0].images == () and history[0].content == "What is this?" + PICTURE_MISSING
    assert reopened.pictures is not None and reopened.pictures.missing == {sha}
    writes.save_image(png_bytes(seed=5))  # back again: it goes with the message, and the note goes
    assert reopened.history()[0].images == (png_bytes(seed=5),) and not reopened.pictures.missing


def test_the_picture_cache_is_bounded_and_a_background_cleanup_leaves_pictures_saved_meanwhile(tmp_path):
    from app.chat.images import PictureCache

    cache = PictureCache(limit=10)
    cache.put("a", b"12345")
    cache.put("b", b"12345")
    assert cache.get("a") == b"12345"  # used: kept over "b"
    cache.put("c", b"123")
    assert "b" not in cache and cache.get("a") and cache.get("c")
    cache.put("huge", b"x" * 11)
    assert "huge" not in cache

    writes = PendingWrites(ConversationStore(tmp_path / "chats.sqlite3"))
    writes.clean_in_background = True
    first = chat_with_picture(writes, png_bytes(seed=7))
    waiting = writes.save_image(png_bytes(seed=8))  # attached in the composer, not sent yet
    writes.delete_chat(first.chat_id)
    assert writes.image_cleanup is not None
    writes.image_cleanup.join(10)
    assert writes.read_image(waiting) == png_bytes(seed=8)  # saved just now: left
