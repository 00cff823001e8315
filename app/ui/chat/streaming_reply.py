"""The reply being written: where it is shown and saved, and what has arrived but is not yet shown."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StreamingReply:
    job: int  # the engine job
    chat: int  # the chat it belongs to
    record: int  # its message id in the store
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

    def thinking_stats(self) -> dict:
        return {"reasoning_tokens": self.reasoning_tokens, "reasoning_s": self.thinking_s} if self.reasoning else {}
