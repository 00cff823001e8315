"""A llama_batch over numpy arrays: tokens of several sequences, written with slices rather than per field.

llama_batch_init would malloc one seq_id array per token, which Python then fills one ctypes
assignment at a time (a prompt chunk of 512 tokens: ~2,500 calls). Here each token's seq_id
pointer is set once, into one int32 array, so a chunk is five numpy slice writes.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import llama_cpp
import numpy as np


class TokenBatch:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.token = np.zeros(capacity, dtype=np.int32)
        self.pos = np.zeros(capacity, dtype=np.int32)
        self.n_seq_id = np.ones(capacity, dtype=np.int32)
        self.seq = np.zeros(capacity, dtype=np.int32)
        self.logits = np.zeros(capacity, dtype=np.int8)
        int_p = ctypes.POINTER(ctypes.c_int32)
        base = self.seq.ctypes.data
        self._seq_ptrs = (int_p * capacity)(*(ctypes.cast(base + 4 * i, int_p) for i in range(capacity)))
        batch: Any = llama_cpp.llama_batch()
        batch.token = self.token.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token))
        batch.pos = self.pos.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_pos))
        batch.n_seq_id = self.n_seq_id.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        batch.seq_id = ctypes.cast(self._seq_ptrs, ctypes.POINTER(ctypes.POINTER(llama_cpp.llama_seq_id)))
        batch.logits = self.logits.ctypes.data_as(ctypes.POINTER(ctypes.c_int8))
        self.c = batch  # embd stays NULL: tokens, not embeddings
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    @property
    def room(self) -> int:
        return self.capacity - self.n

    def add(self, tokens: Sequence[int], first_pos: int, seq: int, logits_last: bool) -> int:
        """Append `tokens` of sequence `seq` at positions from `first_pos`; the last one's batch index."""
        i, k = self.n, len(tokens)
        end = i + k
        self.token[i:end] = tokens
        self.pos[i:end] = np.arange(first_pos, first_pos + k, dtype=np.int32)
        self.seq[i:end] = seq
        self.logits[i:end] = 0
        if logits_last:
            self.logits[end - 1] = 1
        self.n = end
        return end - 1

    def decode(self, ctx: Any) -> int:
        self.c.n_tokens = self.n
        return int(llama_cpp.llama_decode(ctx, self.c))
