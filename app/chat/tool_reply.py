"""A finished reply's text read for tool calls: what stays text and which calls it makes, as parts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.chat.message import ToolCallPart
from app.engine.tool_calls import parse_reply


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def read_calls(text: str, tool_format: str, tools: Sequence[dict[str, Any]], parallel: bool = True,
               parsed_calls: Sequence[tuple[str, str, str]] = ()) -> tuple[str, tuple[ToolCallPart, ...]]:
    """The reply's text and its calls (each with an id: the model's own, or a new one).

    With `parallel` false only the first call is kept, as a client that asked for one call at a
    time expects; with no tools offered the whole reply is text. `parsed_calls`: the calls a remote
    server already read from its model's reply (Done.tool_calls): they are taken as they are."""
    if parsed_calls and tools:
        calls = tuple(ToolCallPart(i or new_call_id(), name, arguments) for i, name, arguments in parsed_calls)
        return text, calls if parallel else calls[:1]
    parsed = parse_reply(text, tool_format, tools)
    calls = tuple(ToolCallPart(c.id or new_call_id(), c.name, c.arguments) for c in parsed.calls)
    return parsed.content, calls if parallel else calls[:1]
