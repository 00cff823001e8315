"""How likely each token of a reply was: the picked token's log-probability and its top alternatives.

Plain data that pickles across the engine pipe and turns into JSON for the API and the store.
The numbers are llama-server's own (its default `post_sampling_probs: false`): a softmax over the
model's raw logits for that step, before penalties, temperature or any cut, so they say what the
model weighed, not what the sampler's settings made of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenChoice:
    id: int
    piece: bytes  # the bytes the token prints (a character may be split over several tokens)
    logprob: float

    @property
    def text(self) -> str:
        return self.piece.decode("utf-8", errors="replace")

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class TokenProbs:
    """One step of a reply: the token picked and the most likely tokens at that step, best first."""

    chosen: TokenChoice
    top: tuple[TokenChoice, ...] = ()


def choice_to_json(choice: TokenChoice) -> list[Any]:
    """Compact: [id, text, logprob] (the text as bytes' list when it is not whole UTF-8)."""
    try:
        text: Any = choice.piece.decode("utf-8")
    except UnicodeDecodeError:
        text = list(choice.piece)
    return [choice.id, text, round(choice.logprob, 5)]


def choice_from_json(data: Any) -> TokenChoice:
    token, text, logprob = data
    piece = bytes(text) if isinstance(text, list) else str(text).encode("utf-8")
    return TokenChoice(int(token), piece, float(logprob))


def probs_to_json(steps: Sequence[TokenProbs]) -> list[Any]:
    """[[chosen, [top...]], ...] in the compact form above (what the store and --json keep)."""
    return [[choice_to_json(s.chosen), [choice_to_json(c) for c in s.top]] for s in steps]


def probs_from_json(data: Any) -> tuple[TokenProbs, ...]:
    """The steps saved by probs_to_json; ValueError on anything else."""
    try:
        return tuple(TokenProbs(choice_from_json(chosen), tuple(choice_from_json(c) for c in top))
                     for chosen, top in data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not token probabilities: {exc}") from exc
