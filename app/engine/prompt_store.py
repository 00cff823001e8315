"""Prompts kept in RAM after their sequence moved on, so a conversation seen before starts where it stopped.

A context's cache holds one prompt per sequence, and a chat in the window has one sequence in all.
Opening another chat and coming back meant reading the first one's whole history again: a few
seconds for a long chat with a 7B model on a laptop's CPU, every time the user switches. An API
client that sends a handful of long prompts in turn (several conversations, or one agent's tools)
paid the same. llama-server keeps such prompts in RAM (its --cache-ram); this is Hearth's own.

Before a sequence drops cached tokens for a different prompt, its cells are copied out
(llama_state_seq_get_data: the keys and values it holds, a few tens of KiB a token) with the token
ids they belong to. When a prompt shares more with a kept entry than with what its sequence still
holds, that entry is written back into the sequence (llama_state_seq_set_data, into any sequence)
and only the rest of the prompt is read. Its last token is always read (its logits pick the first
token of the reply), so a reply is what it would be from a cache that had never left.

The store is bounded in bytes (LoadOptions.prompt_cache_mib; automatic: an eighth of the memory
free at load, at most AUTO_MOST_BYTES) and the least recently used entry goes first; a prompt whose
cells alone are more than the bound is not kept. An entry that a newer one extends is dropped, and a
prompt that a longer entry already holds is not copied twice. The entry being brought back may be
evicted by the save that makes room for the one leaving (a bound that holds one of them): it is
written back all the same, and kept again when its sequence moves on.

Some caches cannot be cut back to a shorter prefix: a sliding-window model's (llama.cpp saves only
the cells inside the window) and a recurrent or hybrid model's. There an entry comes back only when
the new prompt goes on from all of it (a chat that continues), never cut shorter, and a prompt
counts as kept only by an entry of exactly its tokens. An image's tokens
are negative ids made from its digest (vision.py), so a prompt with pictures is found again as any other.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llama_cpp

from app.load_limits import PROMPT_CACHE_AUTO

MIN_TOKENS = 32  # a shorter prompt is read again in milliseconds: not worth a copy
MIN_GAIN = 16  # an entry comes back only if it saves reading this many more tokens
MAX_ENTRIES = 256  # bounds the search on each prompt (an entry that parts early costs a microsecond)
AUTO_SHARE = 8  # the automatic budget: this fraction (1/8) of the memory free at load
AUTO_MOST_BYTES = 2 << 30  # and at most 2 GiB


@dataclass
class Entry:
    tokens: list[int]  # an image's ids can go below -2**63: Python ints, not an array's
    data: Any  # a ctypes byte array: one sequence's state as llama.cpp wrote it
    size: int  # bytes llama.cpp wrote (at most the buffer's)
    used: int


def budget_bytes(mib: int, free_ram: int) -> int:
    """The store's bound: `mib` MiB as asked (0: no store), or the automatic share of free memory."""
    if mib == PROMPT_CACHE_AUTO:
        return min(AUTO_MOST_BYTES, max(free_ram, 0) // AUTO_SHARE)
    return max(mib, 0) << 20


def shared_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many ids `a` and `b` share from the start. Slices compare in C: windows that double from 64
    ids (most entries part from a prompt early), then a halving search inside the one that differs."""
    n = min(len(a), len(b))
    same, step = 0, 64
    while same < n:
        end = min(n, same + step)
        if a[same:end] != b[same:end]:
            break
        same, step = end, step * 2
    else:
        return n
    differs = end  # a[:same] == b[:same]; a[:differs] != b[:differs]
    while differs - same > 1:
        mid = (same + differs) // 2
        if a[same:mid] == b[same:mid]:
            same = mid
        else:
            differs = mid
    return same


class PromptStore:
    """Sequences' states in RAM, found again by the longest shared prefix (engine thread only)."""

    def __init__(self, ctx: Any, memory: Any, limit_bytes: int, cuttable: bool) -> None:
        self.ctx, self.memory, self.limit = ctx, memory, limit_bytes
        self.cuttable = cuttable  # False: an entry comes back only whole (see the module's docstring)
        self.entries: list[Entry] = []
        self.clock = 0
        self.restored = 0  # entries written back (tests and the bench read it)

    @property
    def size(self) -> int:
        return sum(ctypes.sizeof(entry.data) for entry in self.entries)  # as allocated

    def exchange(self, seq: int, kv: list[int], tokens: Sequence[int]) -> bool:
        """Before `seq`, whose cache holds `kv`, takes `tokens`: keep what it would lose, bring back a
        better entry. `kv` is updated in place; True if an entry was written into the sequence."""
        self.clock += 1
        every, held = list(tokens), list(kv)
        wanted = every[:-1]  # the last token is always read
        have = shared_prefix(held, every)
        best = self._best(wanted, min(have, len(wanted)) + MIN_GAIN)
        if best is not None:
            best.used = self.clock  # before the save below makes room: the entry about to come back stays
        if have < len(held):
            self._save(seq, held)  # may evict `best` when the bound holds one of the two: it is still in hand
        if best is None:
            return False
        if llama_cpp.llama_state_seq_set_data(self.ctx, best.data, best.size, seq) == best.size:
            kv[:] = best.tokens
            self.restored += 1
            return True
        llama_cpp.llama_memory_seq_rm(self.memory, seq, -1, -1)  # a failed restore leaves the sequence unknown
        kv.clear()
        self.entries = [entry for entry in self.entries if entry is not best]  # nor would it read next time
        return False

    def _best(self, wanted: list[int], least: int) -> Entry | None:
        """The entry sharing most of `wanted`, at least `least` tokens, that may be cut there."""
        best, most = None, least - 1
        for entry in self.entries:
            n = shared_prefix(entry.tokens, wanted)
            if n > most and (self.cuttable or n == len(entry.tokens)):
                best, most = entry, n
        return best

    def _save(self, seq: int, held: list[int]) -> None:
        if len(held) < MIN_TOKENS:
            return
        shared = [shared_prefix(entry.tokens, held) for entry in self.entries]
        for entry, n in zip(self.entries, shared):
            longer = len(entry.tokens) > len(held) and self.cuttable  # one that cannot be cut is no copy
            if (longer or len(entry.tokens) == len(held)) and n == len(held):
                entry.used = self.clock  # already kept, in this entry or a longer one
                return
        size = int(llama_cpp.llama_state_seq_get_size(self.ctx, seq))
        if size <= 0 or size > self.limit:
            return
        # an entry this one goes on from is of no more use
        self.entries = [e for e, n in zip(self.entries, shared) if n < len(e.tokens)]
        self.entries.sort(key=lambda e: e.used)
        while self.entries and (self.size + size > self.limit or len(self.entries) >= MAX_ENTRIES):
            self.entries.pop(0)
        try:
            data = (ctypes.c_uint8 * size)()
        except MemoryError:  # the bound is a share of what was free at load: less may be free now
            return
        written = int(llama_cpp.llama_state_seq_get_data(self.ctx, data, size, seq))
        if written > 0:
            self.entries.append(Entry(held, data, written, self.clock))


def for_model(ctx: Any, memory: Any, model: Any, mib: int, free_ram: int) -> PromptStore | None:
    """The store for a loaded model, or None when its budget is 0."""
    limit = budget_bytes(mib, free_ram)
    if limit <= 0:
        return None
    cuttable = (llama_cpp.llama_model_n_swa(model) == 0 and not llama_cpp.llama_model_is_recurrent(model)
                and not llama_cpp.llama_model_is_hybrid(model))
    return PromptStore(ctx, memory, limit, cuttable)
