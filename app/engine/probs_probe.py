"""Measure each picked token's probability from the logits the sampler saw (only when asked).

`probing_picker` wraps a reply's picker: after the sampler picks, it reads the same logits
(llama.cpp leaves them in place; the sampler chain works on a copy) and records the picked
token's log-softmax and the top alternatives. A reply that asks for none never goes through
here, so the per-token loop costs what it did.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

from app.engine.decode_loop import TokenFacts
from app.engine.sampler_chain import _logits_address
from app.engine.token_probs import TokenChoice, TokenProbs


def measure(logits: np.ndarray[Any, np.dtype[np.float32]], token: int, n_top: int,
            facts: TokenFacts) -> TokenProbs:
    """The log-softmax of `logits` at `token`, and its `n_top` best tokens (highest logit first)."""
    peak = float(logits.max())
    log_total = peak + float(np.log(np.exp(logits - peak, dtype=np.float32).sum(dtype=np.float64)))

    def choice(tok: int) -> TokenChoice:
        return TokenChoice(tok, facts[tok][1], float(logits[tok]) - log_total)

    top = tuple(choice(int(t)) for t in best_tokens(logits, n_top, peak)) if n_top > 0 else ()
    return TokenProbs(choice(token), top)


def best_tokens(logits: np.ndarray[Any, np.dtype[np.float32]], n: int, peak: float) -> np.ndarray[Any, Any]:
    """The `n` highest logits' ids, highest first (ties: the lower id first).

    The best few lie within a few units of the peak: one comparison over the vocabulary finds them,
    and only those are sorted. np.argpartition over the whole vocabulary took ten times as long."""
    n = min(n, logits.shape[0])
    margin = 4.0
    near = np.flatnonzero(logits >= peak - margin)
    while near.shape[0] < n:
        margin *= 4.0
        near = np.flatnonzero(logits >= peak - margin) if margin < 1e6 else np.arange(logits.shape[0])
    if near.shape[0] > 8 * n:
        near = np.sort(near[np.argpartition(logits[near], -n)[-n:]])
    return near[np.argsort(-logits[near], kind="stable")][:n]


def probing_picker(pick: Callable[[], int], ctx: Any, n_vocab: int, n_top: int, facts: TokenFacts,
                   record: list[TokenProbs]) -> Callable[[], int]:
    """`pick`, also appending each step's TokenProbs to `record` (the end-of-reply token's too)."""
    logits_at = _logits_address
    if logits_at is None:
        raise RuntimeError("this llama.cpp has no llama_get_logits_ith")

    def probed() -> int:
        token = pick()
        at = logits_at(ctx, -1)
        if not at:
            raise RuntimeError("llama.cpp returned no logits")
        view = np.frombuffer(memoryview((ctypes.c_float * n_vocab).from_address(at)), dtype=np.float32)
        record.append(measure(view, token, n_top, facts))
        return token

    return probed
