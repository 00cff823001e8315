"""Tool calls in the server's answers: the `tool_calls` of a whole reply, and a stream that holds
back what may be a call until the reply is finished and read.

A streamed reply's text is sent as it comes until it may be a call: from the format's call marker
on (`<tool_call>`, `[TOOL_CALLS]`…), or all of it when it opens with `{` or `[` (a bare JSON call) or
when tool_choice forces a call (tool_grammar.py).
The held text is read once the reply ends: calls go out as `delta.tool_calls`, anything else as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.chat.message import ToolCallPart
from app.chat.tool_reply import new_call_id, read_calls
from app.engine.tool_calls import CALL_MARKERS
from app.server.tool_grammar import forced_calls
from app.server.tool_requests import ToolOptions


def calls_json(calls: Sequence[ToolCallPart], indexed: bool = False) -> list[dict[str, Any]]:
    return [{**({"index": i} if indexed else {}), "id": c.call_id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}} for i, c in enumerate(calls)]


def _read(text: str, tool_format: str, options: ToolOptions,
          parsed_calls: Sequence[tuple[str, str, str]]) -> tuple[str, tuple[ToolCallPart, ...]]:
    """The reply's text and calls; a forced call's reply (tool_grammar.py) is read as its calls even where
    the model's own format reader does not try the bare-JSON rule, or when it holds an array of calls."""
    content, calls = read_calls(text, tool_format, options.tools, options.parallel, parsed_calls)
    if not calls and (forced := forced_calls(text, options)):
        return "", tuple(ToolCallPart(c.id or new_call_id(), c.name, c.arguments) for c in forced)
    return content, calls


class CallGate:
    """Splits a streamed reply into text safe to send now and text held until the end."""

    def __init__(self, options: ToolOptions, tool_format: str) -> None:
        self.options, self.tool_format = options, tool_format
        self.marker = CALL_MARKERS.get(tool_format, "")
        self.text = ""
        self.sent = 0  # characters of `text` already sent as content
        self.holding = options.choice in ("required", "function")  # a forced call: the whole reply is one

    def feed(self, piece: str) -> str:
        """The part of the reply so far that can go out now."""
        self.text += piece
        if self.holding:
            return ""
        head = self.text.lstrip()
        if head[:1] in ("{", "[") or head.startswith("`"):
            self.holding = True  # a bare JSON call (maybe in a ```json fence), or Llama 3's call without its tag
            return ""
        if not head:
            return ""  # leading space: wait for what follows it
        safe = len(self.text)
        if self.marker:
            at = self.text.find(self.marker, self.sent)
            if at >= 0:
                self.holding, safe = True, at
            else:  # keep a tail that may be the start of the marker
                for keep in range(min(len(self.marker) - 1, len(self.text)), 0, -1):
                    if self.marker.startswith(self.text[-keep:]):
                        safe = len(self.text) - keep
                        break
        out = self.text[self.sent:safe]
        self.sent = max(self.sent, safe)
        return out

    def finish(self, parsed_calls: Sequence[tuple[str, str, str]] = ()) -> tuple[str, tuple[ToolCallPart, ...]]:
        """The text still to send and the reply's calls, once it has ended (`parsed_calls`: those a remote
        engine's server already read, Done.tool_calls, passed on as they are)."""
        content, calls = _read(self.text, self.tool_format, self.options, parsed_calls)
        if not calls:
            return self.text[self.sent:], ()
        sent = self.text[:self.sent]
        return (content[len(sent):] if content.startswith(sent) else ""), calls


def whole_message(text: str, options: ToolOptions, tool_format: str,
                  parsed_calls: Sequence[tuple[str, str, str]] = ()) -> tuple[dict[str, Any], bool]:
    """The reply's `message` and whether it makes calls (`parsed_calls`: as CallGate.finish's)."""
    if not options.parse_calls:
        return {"role": "assistant", "content": text}, False
    content, calls = _read(text, tool_format, options, parsed_calls)
    if not calls:
        return {"role": "assistant", "content": text}, False
    # OpenAI's API says null, not "", for a reply that is only calls
    return {"role": "assistant", "content": content or None, "tool_calls": calls_json(calls)}, True

