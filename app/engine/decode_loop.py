"""The per-token loop: pick, detokenize, check stops, decode; kept lean because it runs per token.

Local names keep the loop free of attribute look-ups; the one-token batch is built once
and points at `one`, so each step only writes the new token id. What llama.cpp says about
a token (does it end the reply, which bytes does it print) never changes for a model, so
it is asked once per token id and kept (`TokenFacts`): right after a decode the CPU caches
hold the model's weights, and each ctypes call then costs 5-20 µs.
"""

from __future__ import annotations

import codecs
import ctypes
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

import llama_cpp

from app.engine.abort_flag import AbortFlag
from app.engine.protocol import StopReason
from app.engine.sampling import SamplingParams
from app.engine.stops import StopMatcher
from app.engine.thread_fit import ThreadFit


@dataclass
class Decoded:
    reply: str
    tokens: list[int]  # the ids generated, in order (what the KV cache now holds after the prompt)
    reason: StopReason
    t_first: float  # perf_counter when the first token was picked (0.0: none)
    t_last: float


class TokenFacts(dict[int, tuple[bool, bytes]]):
    """token id -> (ends the reply, the bytes it prints), asked of llama.cpp on first use, then kept."""

    def __init__(self, vocab: Any, buf: Any, extra_stops: Container[int]) -> None:
        super().__init__()
        self._vocab, self._buf, self._extra_stops = vocab, buf, extra_stops

    def __missing__(self, token: int) -> tuple[bool, bytes]:
        vocab, buf = self._vocab, self._buf
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, 256, 0, False)
        ends = bool(llama_cpp.llama_vocab_is_eog(vocab, token)) or token in self._extra_stops
        fact = self[token] = (ends, ctypes.string_at(buf, n) if n > 0 else b"")
        return fact


def decode_reply(ctx: Any, facts: TokenFacts, pick: Callable[[], int], cancel: AbortFlag, kv: list[int], n_ctx: int,
                 sampling: SamplingParams, on_text: Callable[[str, int], None], t_prompt: float,
                 fit: ThreadFit | None = None) -> Decoded:
    """Generate after an evaluated prompt until a stop; stream text through on_text; extend kv.

    `fit`, when given, may change the thread count between two tokens (thread_fit.py)."""
    decode = llama_cpp.llama_decode
    clock = time.perf_counter
    one = (llama_cpp.llama_token * 1)()
    batch = llama_cpp.llama_batch_get_one(one, 1)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stops = StopMatcher(sampling.stop)
    feed = stops.feed if sampling.stop else None
    max_tokens = sampling.max_tokens or n_ctx
    generated: list[int] = []
    pieces: list[str] = []
    reason = StopReason.EOS
    t_first = 0.0
    t_last = t_prompt
    while True:
        token = pick()
        t_last = clock()
        if not generated:
            t_first = t_last
        ends, piece = facts[token]
        if ends:
            reason = StopReason.EOS
            break
        generated.append(token)
        if piece:
            text = decoder.decode(piece)
            if feed is not None and text:
                text, hit = feed(text)
                if hit:
                    if text:
                        pieces.append(text)
                        on_text(text, len(generated))
                    reason = StopReason.STOP
                    break
            if text:
                pieces.append(text)
                on_text(text, len(generated))
        if len(generated) >= max_tokens:
            reason = StopReason.LENGTH
            break
        if cancel.is_set():
            reason = StopReason.CANCELLED
            break
        if len(kv) >= n_ctx:
            reason = StopReason.CONTEXT_FULL
            break
        one[0] = token
        if fit is not None and fit.threads != fit.applied:  # compared here: no method call on most tokens
            fit.apply(ctx)
        rc = decode(ctx, batch)
        if rc != 0:
            reason = StopReason.CONTEXT_FULL if rc == 1 else StopReason.ERROR
            break
        kv.append(token)
    tail = decoder.decode(b"", final=True) + (stops.flush() if reason != StopReason.STOP else "")
    if tail:
        pieces.append(tail)
        on_text(tail, len(generated))
    return Decoded("".join(pieces), generated, reason, t_first, t_last)
