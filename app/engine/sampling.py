"""Sampling parameters and the named presets."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

MAX_TOP_LOGPROBS = 20  # OpenAI's limit for top_logprobs


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    penalty_last_n: int = 64
    seed: int = -1  # -1: a fresh random seed for every reply
    max_tokens: int = 1024  # 0: until the context is full
    stop: tuple[str, ...] = field(default_factory=tuple)
    # Report each picked token's log-probability and this many top alternatives (0-20); -1: report none.
    # Not a sampling setting: it changes nothing about which token is picked (token_probs.py).
    top_logprobs: int = -1
    # A GBNF grammar every reply must follow ("": none), applied first in the sampler chain; the
    # server sets it to force a tool call (tool_choice "required" or a named function).
    grammar: str = ""

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    def validated(self) -> SamplingParams:
        """Clamp every value into its sane range (what the sliders allow)."""
        return replace(
            self,
            temperature=min(max(self.temperature, 0.0), 5.0),
            top_p=min(max(self.top_p, 0.0), 1.0),
            top_k=max(self.top_k, 0),
            min_p=min(max(self.min_p, 0.0), 1.0),
            repeat_penalty=min(max(self.repeat_penalty, 0.5), 2.5),
            presence_penalty=min(max(self.presence_penalty, -2.0), 2.0),
            frequency_penalty=min(max(self.frequency_penalty, -2.0), 2.0),
            penalty_last_n=max(self.penalty_last_n, 0),
            max_tokens=max(self.max_tokens, 0),
            stop=tuple(s for s in self.stop if s),
            top_logprobs=min(max(self.top_logprobs, -1), MAX_TOP_LOGPROBS),
        )

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"top_logprobs": self.top_logprobs} if self.top_logprobs >= 0 else {}  # off: as before
        if self.grammar:
            extra["grammar"] = self.grammar
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repeat_penalty": self.repeat_penalty,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "penalty_last_n": self.penalty_last_n,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
        } | extra

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SamplingParams:
        known = cls.__dataclass_fields__
        values = {k: v for k, v in data.items() if k in known}
        if "stop" in values:
            values["stop"] = tuple(values["stop"])
        return cls(**values)


PRESETS: dict[str, SamplingParams] = {
    "Precise": SamplingParams(temperature=0.2, top_p=0.9, top_k=20, min_p=0.1, repeat_penalty=1.05),
    "Balanced": SamplingParams(),
    "Creative": SamplingParams(temperature=1.0, top_p=0.98, top_k=100, min_p=0.02, repeat_penalty=1.15),
}
