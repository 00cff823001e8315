""""What if": a reply written again from one of its tokens, with another token the user picked there.

The new reply is an alternative of the old one at its turn (store/branches.py). It starts with the
old reply's tokens before the chosen step and the picked token, then the model goes on from there
(the engine's `ChatMessage.prefill`). Its token_probs part keeps every step and `forced_at`, the
step the user chose, so the view can mark it and a restart loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.chat.message import Message, TokenProbsPart
from app.engine.protocol import ChatMessage
from app.engine.token_probs import TokenProbs, probs_from_json, probs_to_json


@dataclass(frozen=True)
class WhatIf:
    prefix: str  # the reply's text up to and with the picked token
    steps: list[Any]  # those tokens' probabilities (token_probs.probs_to_json)
    forced_at: int  # the step the user chose

    def prefill(self) -> ChatMessage:
        return ChatMessage("assistant", self.prefix, prefill=True)

    def part(self, more: tuple[TokenProbs, ...]) -> TokenProbsPart:
        return TokenProbsPart(self.steps + probs_to_json(more), self.forced_at)


def what_if_from(message: Message, step: int, token_id: int) -> WhatIf:
    """The start of a reply that picks `token_id` at `step` of `message`; ValueError when it cannot."""
    part = message.token_probs
    if part is None:
        raise ValueError("this reply kept no token probabilities (Chat → Keep token probabilities)")
    steps = probs_from_json(part.steps)
    if not 0 <= step < len(steps):
        raise ValueError(f"this reply has no token {step + 1}")
    choice = next((c for c in steps[step].top if c.id == token_id), None)
    if choice is None:
        raise ValueError(f"token {token_id} is not one of the alternatives at token {step + 1}")
    kept = (*steps[:step], TokenProbs(choice, steps[step].top))
    prefix = b"".join(s.chosen.piece for s in kept).decode("utf-8", errors="replace")
    return WhatIf(prefix, probs_to_json(kept), step)
