"""Token probabilities in OpenAI's two response shapes (chat's `content` list, completions' parallel lists)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.engine.token_probs import TokenChoice, TokenProbs


def _entry(choice: TokenChoice) -> dict[str, Any]:
    return {"token": choice.text, "logprob": choice.logprob, "bytes": list(choice.piece)}


def chat_logprobs(steps: Sequence[TokenProbs]) -> dict[str, Any]:
    """`choices[0].logprobs` of a chat completion (or of one streamed chunk)."""
    return {"content": [_entry(s.chosen) | {"top_logprobs": [_entry(c) for c in s.top]} for s in steps],
            "refusal": None}


def completion_logprobs(steps: Sequence[TokenProbs], offset: int = 0) -> dict[str, Any]:
    """`choices[0].logprobs` of a text completion; `offset`: characters of the reply before these tokens."""
    offsets = []
    for step in steps:
        offsets.append(offset)
        offset += len(step.chosen.text)
    return {"tokens": [s.chosen.text for s in steps],
            "token_logprobs": [s.chosen.logprob for s in steps],
            "top_logprobs": [{c.text: c.logprob for c in s.top} for s in steps],
            "text_offset": offsets}
