"""The same prompt again starts from the logits it had the first time (a regenerated reply).

A prompt's last token is evaluated in one batch with the tokens before it. Evaluated again alone
(everything before it cached, as when a reply is regenerated) its logits would come out rounded a
little differently on some CPUs (an AVX2-only build: up to 0.58 apart in SmolLM2's logits), and a
greedy or seeded reply could change. The engine used to evaluate the last token alone every time,
which cost a whole extra pass through the model per prompt (3-5% of a chat message's prompt time).
Instead the last prompt's logits are kept (one copy of n_vocab floats, 1 MiB for 262k tokens) and,
when the very same prompt comes again with all of it still cached, written back where llama.cpp
keeps its logits: the first token is picked from exactly what the first reply saw, and nothing is
evaluated at all. The batching engine does the same per sequence (batch_slots.BatchSlot.kept_logits).

An in-graph sampler chain (HEARTH_BACKEND_SAMPLING=1, or a reply told to use one) picks inside
the last token's graph and never leaves the logits on the host: there the last token still goes
alone, evaluated again if the prompt already went in whole (`split_last` says when to expect it).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import llama_cpp
import numpy as np

from app.engine import sampler_chain
from app.engine.prompt_store import shared_prefix


def split_last() -> bool:
    """True when a prompt's last token will likely be evaluated alone (in-graph sampling is on)."""
    return sampler_chain.IN_GRAPH


def same_prompt_cached(kept: tuple[int, ...], tokens: Sequence[int], kv: Sequence[int]) -> bool:
    """`tokens` are the prompt `kept` (whose logits were kept) and the cache `kv` still holds all of them."""
    n = len(kept)
    return n == len(tokens) and shared_prefix(kv, tokens) >= n and kept == tuple(tokens)


def reuse_prefix(memory: Any, kv: list[int], tokens: Sequence[int], keep_all: bool = False) -> int:
    """Keep the longest cached prefix of `tokens` (all of them only with `keep_all`); return how many are kept."""
    n = max(0, min(shared_prefix(kv, tokens), len(tokens) - (0 if keep_all else 1)))  # else the last is evaluated
    if n < len(kv):
        if not llama_cpp.llama_memory_seq_rm(memory, 0, n, -1):
            llama_cpp.llama_memory_seq_rm(memory, 0, -1, -1)  # only sequence 0: a batch may hold others
            n = 0
        del kv[n:]
    return n


def reuse_or_replay(memory: Any, kv: list[int], tokens: Sequence[int], replay: PromptReplay) -> tuple[int, bool]:
    """(tokens kept in the cache, whether the last token's logits are already in place).

    The same prompt as the one `replay` remembers, still all cached: nothing to evaluate, its
    kept logits are written back. Otherwise the longest cached prefix, at most all but the last."""
    cached = reuse_prefix(memory, kv, tokens, keep_all=replay.usable(tokens, kv))
    if cached == len(tokens):
        if replay.restore():
            return cached, True
        cached = reuse_prefix(memory, kv, tokens)
    return cached, False


class PromptReplay:
    """The logits of the last prompt evaluated, for the same prompt again."""

    def __init__(self, ctx: Any, n_vocab: int) -> None:
        self.ctx, self.n_vocab = ctx, n_vocab
        self.tokens: tuple[int, ...] = ()
        self.logits: np.ndarray[Any, np.dtype[np.float32]] | None = None

    def _view(self) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        at = sampler_chain.logits_address(self.ctx)
        if not at:
            return None
        return np.frombuffer(memoryview((ctypes.c_float * self.n_vocab).from_address(at)), dtype=np.float32)

    def remember(self, tokens: Sequence[int]) -> None:
        """Right after `tokens` were evaluated: keep their last token's logits."""
        view = self._view()
        if view is None:
            self.forget()
            return
        self.tokens, self.logits = tuple(tokens), view.copy()

    def forget(self) -> None:
        self.tokens, self.logits = (), None

    def usable(self, tokens: Sequence[int], kv: Sequence[int]) -> bool:
        """The same prompt as the one remembered, and the cache still holds all of it."""
        return self.logits is not None and same_prompt_cached(self.tokens, tokens, kv)

    def restore(self) -> bool:
        """Write the remembered logits where the next pick reads them; False when llama.cpp has no logits buffer."""
        view = self._view()
        if view is None or self.logits is None:
            return False
        view[:] = self.logits
        return True
