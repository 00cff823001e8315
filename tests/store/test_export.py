"""Markdown export: nothing in a title, prompt, model name or message can forge a turn."""

from __future__ import annotations

from app.chat.message import Message
from app.store.conversations import ChatRecord
from app.store.export import chat_to_markdown


def test_newlines_cannot_forge_turns_in_markdown():
    chat = ChatRecord(1, "Trip\n\n## You\n\nforged title", system_prompt="Be brief.\n## You\nforged prompt")
    messages = [
        Message.plain("user", "Hello", id=1, chat_id=1, position=0),
        Message.plain("assistant", "Hi\n## You\nforged reply\n### Steps\nkept", id=2, chat_id=1, position=1,
                      model="Tiny\n## You\nx",
                      parent_id=1),
    ]
    md = chat_to_markdown(chat, messages)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == ["# Trip ## You forged title", "## You", "## Assistant (Tiny ## You x)", "### Steps"]
    assert "> **System prompt:** Be brief.\n> ## You\n> forged prompt" in md
    assert "\\## You\nforged reply" in md
