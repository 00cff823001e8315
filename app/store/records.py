"""What the conversation store hands out besides messages (app.chat.message.Message): a chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatRecord:
    id: int
    title: str
    system_prompt: str = ""
    model_path: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    overflow: str = "truncate_middle"
    created: float = 0.0
    updated: float = 0.0
    thinking: str = "default"
    comparison_id: int = 0  # a Compare column's conversation belongs to that comparison


CHAT_FIELDS = frozenset({"title", "system_prompt", "model_path", "sampling", "overflow", "thinking"})  # update_chat's
