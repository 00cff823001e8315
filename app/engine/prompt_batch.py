"""One prompt chunk as a llama_batch that asks for logits only where they will be read.

`llama_batch_get_one` leaves the output flags unset, and llama.cpp then computes the last
token's logits for every batch. Only the prompt's very last token is ever read, so every other
chunk (the prompt cut into n_batch pieces, and the part before the last token that goes alone)
paid for an output projection it threw away: a [vocabulary x width] matrix product, on a small
model with a large vocabulary most of a token's work (Gemma 3 270M, 262k tokens: about 60% of
a decode step). llama-server marks its outputs the same way (common_batch_add with logits off).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import llama_cpp


class PromptBatches:
    """Decodes token chunks of up to `n_batch` tokens, with or without the last token's logits."""

    def __init__(self, n_batch: int) -> None:
        self._silent = (ctypes.c_int8 * max(n_batch, 1))()  # all zero: no token is an output
        self._no_outputs = ctypes.cast(self._silent, ctypes.POINTER(ctypes.c_int8))

    def decode(self, ctx: Any, tokens: Sequence[int], output: bool = True) -> int:
        """llama_decode's code for `tokens`; `output`: compute the last token's logits (else none at all)."""
        n = len(tokens)
        arr = (llama_cpp.llama_token * n)(*tokens)
        batch = llama_cpp.llama_batch_get_one(arr, n)
        if not output and n <= len(self._silent):
            batch.logits = self._no_outputs
        return int(llama_cpp.llama_decode(ctx, batch))
