"""A message made of parts, and the shapes it takes for the engine, the API, the store and the exports."""

from __future__ import annotations

from app.chat.message import (
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
    part_from_row,
    part_to_row,
    parts_from_json,
    parts_to_json,
)
from app.engine.protocol import ChatMessage


def test_a_plain_message_is_its_thinking_then_its_text():
    message = Message.plain("assistant", "Paris.", "The capital of France.")
    assert message.parts == (ThinkingPart("The capital of France."), TextPart("Paris."))
    assert (message.content, message.reasoning) == ("Paris.", "The capital of France.")
    assert message.to_engine() == ChatMessage("assistant", "Paris.", "The capital of France.")
    assert Message.plain("user", "").parts == (TextPart(""),)  # an empty text is still a part


def test_replacing_the_text_keeps_every_other_part_in_order():
    image = ImagePart("ab" * 32, "image/jpeg", 640, 480, "cat.jpg")
    message = Message(1, 1, 0, "user", (TextPart("What is this?"), image))
    edited = message.with_text("And this?")
    assert edited.content == "And this?" and edited.images == (image,)
    assert edited.with_text(reasoning="hmm").parts == (ThinkingPart("hmm"), TextPart("And this?"), image)


def test_every_part_kind_survives_the_store_rows_and_the_json_export():
    parts = (ThinkingPart("x"), TextPart("é ☃"), ImagePart("c" * 64, "image/png", 2, 3, "a.png"),
             ToolCallPart("call_1", "weather", '{"city": "Oslo"}'), ToolResultPart("call_1", "-3 °C", False),
             UnknownPart("audio", {"sha256": "d" * 64, "seconds": 2.5}))
    assert tuple(part_from_row(*part_to_row(p)) for p in parts) == parts
    assert parts_from_json(parts_to_json(parts)) == parts
    assert part_to_row(TextPart("é"))[1] == '{"text": "é"}'  # readable, searchable text in the database


def test_a_newer_part_or_a_newer_field_is_kept_whole_not_dropped():
    assert part_from_row("text", '{"text": "hi", "lang": "en"}') == UnknownPart("text", {"text": "hi", "lang": "en"})
    assert part_from_row("hologram", "not json") == UnknownPart("hologram", {})
    assert parts_from_json([{"type": "text", "text": "ok"}, "junk", {"no": "type"}, 3]) == (TextPart("ok"),)
    assert parts_from_json({"type": "text"}) == ()
    unknown = Message(1, 1, 0, "user", (TextPart("see"), UnknownPart("audio", {"s": 1})))
    assert unknown.content == "see" and unknown.to_engine() == ChatMessage("user", "see")


def test_the_openai_shape():
    assert Message.plain("user", "hi").to_openai() == {"role": "user", "content": "hi"}
    thought = Message.plain("assistant", "4", "2+2")
    assert thought.to_openai() == {"role": "assistant", "content": "4", "reasoning_content": "2+2"}
    image = Message(0, 0, 0, "user", (TextPart("What is it?"), ImagePart("e" * 64)))
    content = image.to_openai()["content"]
    assert content[0] == {"type": "text", "text": "What is it?"} and content[1]["type"] == "image"
    call = Message(0, 0, 0, "assistant", (TextPart(""), ToolCallPart("c1", "now", "{}")))
    assert call.to_openai()["tool_calls"] == [{"id": "c1", "type": "function",
                                               "function": {"name": "now", "arguments": "{}"}}]
    result = Message(0, 0, 0, "tool", (ToolResultPart("c1", "12:00"),)).to_openai()
    assert result == {"role": "tool", "content": "12:00", "tool_call_id": "c1"}
    assert Message.from_openai("user", "hello") == Message.plain("user", "hello")
    assert Message.from_openai("user", (TextPart("a"),), "r").parts == (ThinkingPart("r"), TextPart("a"))
