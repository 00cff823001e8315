"""What the conversation store hands out: a chat and one message."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChatRecord:
    id: int
    title: str
    system_prompt: str = ""
    model_path: str = ""
    sampling: dict = field(default_factory=dict)
    overflow: str = "truncate_middle"
    created: float = 0.0
    updated: float = 0.0
    thinking: str = "default"
    comparison_id: int = 0  # a Compare column's conversation belongs to that comparison


@dataclass
class MessageRecord:
    id: int
    chat_id: int
    position: int
    role: str
    content: str
    model: str = ""
    sampling: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    complete: bool = True
    error: str = ""
    created: float = 0.0
    reasoning: str = ""
    parent_id: int | None = None  # None: a first message
    chosen: bool = True  # the alternative shown at its turn
    alternative: int = 1  # which of its siblings this is (1-based, oldest first)
    alternatives: int = 1  # how many siblings it has, itself included
