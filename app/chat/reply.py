"""The reply being written: what has arrived, what is shown, and what is saved.

Tokens arrive faster than a view wants to redraw and a disk wants to write, so arriving text waits
in a buffer until `take_arrived()` moves it into the shown text (the GUI does that every 40 ms; the
CLI and the API server at once). `unsaved` says the store has not been given the latest text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    job: int  # the engine job writing it
    chat: int  # the chat it belongs to (0: not stored)
    record: int  # its message id in the store (0: not stored)
    attached: bool = True  # its chat is the one on screen
    buffer: list[str] = field(default_factory=list)  # text not yet shown
    content: str = ""  # text shown so far
    n_tokens: int = 0
    persisted: float = 0.0  # when the content was last written to the store
    unsaved: bool = False  # content has text the store has not been given yet
    reasoning_buffer: list[str] = field(default_factory=list)  # thinking not yet shown
    reasoning: str = ""  # thinking shown so far
    reasoning_tokens: int = 0  # completion tokens when the last thinking arrived
    thinking_since: float = 0.0  # when the first thinking arrived
    thinking_s: float = 0.0
    parts: list[Any] = field(default_factory=list)  # the tool calls it made and their results, in order

    def add_text(self, text: str, n_tokens: int) -> None:
        self.buffer.append(text)
        self.n_tokens = n_tokens
        self.unsaved = True

    def add_reasoning(self, text: str, n_tokens: int, now: float) -> None:
        self.thinking_since = self.thinking_since or now
        self.thinking_s = now - self.thinking_since
        self.reasoning_buffer.append(text)
        self.unsaved = True
        self.reasoning_tokens = n_tokens
        self.n_tokens = n_tokens  # the context meter counts the thinking too

    def take_arrived(self) -> bool:
        """Move what arrived into the shown text; True if anything did."""
        if not (self.buffer or self.reasoning_buffer):
            return False
        self.content += "".join(self.buffer)
        self.buffer.clear()
        self.reasoning += "".join(self.reasoning_buffer)
        self.reasoning_buffer.clear()
        return True

    def thinking_stats(self) -> dict[str, Any]:
        return {"reasoning_tokens": self.reasoning_tokens, "reasoning_s": self.thinking_s} if self.reasoning else {}
