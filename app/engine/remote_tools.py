"""Tools on a remote OpenAI-compatible server: the offered tools and past calls sent in OpenAI's shape,
and the calls the server parsed read back from its stream (`delta.tool_calls`, in pieces by index).

A server (llama-server with --jinja, OpenAI, …) applies its own template and parses its model's calls
itself; Hearth takes its calls as they are and never guesses at the text. What a hostile server sends
is checked for shape: a malformed call is left out, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.engine.protocol import ChatMessage

MAX_CALLS = 64  # more calls in one reply than this are not believed
MAX_ARGUMENT_CHARS = 1 << 20


def tool_fields(tools: str) -> dict[str, Any]:
    """The request's `tools` field from the offered tools (a JSON array), or nothing."""
    if not tools:
        return {}
    try:
        offered = json.loads(tools)
    except json.JSONDecodeError:
        return {}
    return {"tools": offered} if isinstance(offered, list) and offered else {}


def with_tool_fields(sent: dict[str, Any], message: ChatMessage) -> dict[str, Any]:
    """An OpenAI message with the assistant's calls or the call a tool message answers."""
    if message.tool_calls:
        sent["tool_calls"] = [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                              for call_id, name, arguments in message.tool_calls]
    if message.tool_call_id:
        sent["tool_call_id"] = message.tool_call_id
    return sent


@dataclass
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    size: int = 0


@dataclass
class StreamedCalls:
    """The calls of one streamed reply, put together from their pieces."""

    calls: dict[int, _Call] = field(default_factory=dict)

    def take(self, payload: object) -> None:
        choices = payload.get("choices") if isinstance(payload, dict) else None
        for choice in choices if isinstance(choices, list) else []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            pieces = delta.get("tool_calls") if isinstance(delta, dict) else None
            for piece in pieces if isinstance(pieces, list) else []:
                self._add(piece)

    def _add(self, piece: object) -> None:
        if not isinstance(piece, dict):
            return
        index = piece.get("index", len(self.calls))
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < MAX_CALLS:
            return
        call = self.calls.setdefault(index, _Call())
        if isinstance(piece.get("id"), str) and piece["id"]:
            call.id = piece["id"]
        function = piece.get("function")
        if not isinstance(function, dict):
            return
        if isinstance(function.get("name"), str):
            call.name += function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, str) and call.size + len(arguments) <= MAX_ARGUMENT_CHARS:
            call.arguments.append(arguments)
            call.size += len(arguments)

    def result(self) -> tuple[tuple[str, str, str], ...]:
        """(id, name, arguments JSON) for each call with a name, in index order."""
        return tuple((c.id, c.name, "".join(c.arguments) or "{}") for _, c in sorted(self.calls.items()) if c.name)
