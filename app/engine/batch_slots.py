"""One sequence of a batch (batch_scheduler.py): a request's prompt, its KV cache, sampler, stops and stream.

A slot keeps the token ids its sequence holds in the KV cache between requests (its prompt cache): a
newcomer goes to the free slot sharing the longest prefix with its prompt, as llama-server's slots do.
What happens to each picked token mirrors decode_loop.decode_reply, one token at a time, so a reply
ends for the same reasons and streams the same text as on the one-sequence path.
"""

from __future__ import annotations

import codecs
import ctypes
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import llama_cpp
import numpy as np

from app.engine import protocol as p
from app.engine.context import fit_messages, refusal_message, too_long_message
from app.engine.decode_loop import TokenFacts
from app.engine.llama_backend import c_function
from app.engine.probs_probe import measure
from app.engine.prompt_replay import same_prompt_cached
from app.engine.prompt_store import shared_prefix
from app.engine.protocol import EngineError, ErrorKind, StopReason
from app.engine.reasoning import ReasoningParser
from app.engine.sampler_chain import build_sampler, plain_greedy, sample_from
from app.engine.sampling import SamplingParams
from app.engine.stops import StopMatcher
from app.engine.token_probs import TokenProbs

if TYPE_CHECKING:
    from app.engine.runtime import LoadedModel

FloatRow = np.ndarray[Any, np.dtype[np.float32]]
# a plain address (llama_cpp's own binding builds a pointer object per call; see sampler_chain.argmax_picker)
_logits_address = c_function("llama_get_logits_ith", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32)


@dataclass
class Prepared:
    """A request made ready for a slot: its prompt's ids and what its Done reports."""

    request_id: int
    sampling: SamplingParams
    text_prompt: str
    tokens: list[int]
    parser: ReasoningParser | None  # None: a raw completion (no thinking to split off)
    t0: float
    dropped_messages: int = 0
    truncated: bool = False


class LogitRows:
    """numpy views of the logits llama.cpp left for each output of the last batch, made once per address."""

    def __init__(self, ctx: Any, n_vocab: int) -> None:
        self.ctx, self.n_vocab = ctx, n_vocab
        self._views: dict[int, FloatRow] = {}

    def __call__(self, index: int) -> FloatRow:
        assert _logits_address is not None, "this llama.cpp has no llama_get_logits_ith"
        at = _logits_address(self.ctx, index)
        if not at:
            raise RuntimeError("llama.cpp returned no logits")
        view = self._views.get(at)
        if view is None:
            if len(self._views) > 512:
                self._views.clear()
            view = self._views[at] = np.frombuffer(
                memoryview((ctypes.c_float * self.n_vocab).from_address(at)), dtype=np.float32)
        return view


@dataclass
class Reply:
    """The request a slot is answering, from its first prompt token to its Done."""

    job: Prepared
    cached: int  # prompt tokens found in the slot's cache
    stream: Any  # worker.ReplyStream
    chain: Any  # llama.cpp sampler chain, or None for plain greedy (argmax of the logits row)
    n_ctx: int
    t_eval: float
    evaluated: int = 0  # prompt tokens in the cache so far
    next_token: int = -1  # picked, to be decoded in the next batch (-1: none yet)
    generated: list[int] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    probs: list[TokenProbs] = field(default_factory=list)
    t_first: float = 0.0
    t_last: float = 0.0
    decoder: Any = None
    stops: StopMatcher | None = None


class BatchSlot:
    """One sequence id of the context and the tokens its cache holds (`kv`)."""

    def __init__(self, seq: int, kv: list[int]) -> None:
        self.seq = seq
        self.kv = kv  # slot 0 shares the one-sequence path's list (LoadedModel.kv_tokens): seq 0 is theirs too
        self.reply: Reply | None = None
        self.last_used = 0
        # the last prompt read here whole and its last token's logits: the same prompt again, still cached,
        # picks its first token from them (a regenerated reply), as prompt_replay.py on the one-sequence path
        self.replay: tuple[tuple[int, ...], FloatRow] | None = None

    def common_prefix(self, tokens: list[int]) -> int:
        # at most all but the last prompt token: that one is always evaluated, its logits pick
        return max(0, min(shared_prefix(self.kv, tokens), len(tokens) - 1))

    def kept_logits(self, tokens: list[int]) -> FloatRow | None:
        """The logits `tokens` left the first time, if they were this slot's last prompt and are all cached."""
        kept = self.replay
        return kept[1] if kept is not None and same_prompt_cached(kept[0], tokens, self.kv) else None

    def keep(self, memory: Any, n: int) -> int:
        """Keep the first `n` cached tokens, drop the rest from the cache; how many are kept."""
        if n < len(self.kv):
            if not llama_cpp.llama_memory_seq_rm(memory, self.seq, n, -1):
                llama_cpp.llama_memory_seq_rm(memory, self.seq, -1, -1)
                n = 0
            del self.kv[n:]
        return n

    def start(self, job: Prepared, cached: int, stream: Any, n_vocab: int, n_ctx: int, ctx: Any = None) -> Reply:
        sampling = job.sampling  # a grammar needs `ctx` (BatchScheduler._prepare has checked it parses)
        chain = None if plain_greedy(sampling) else build_sampler(sampling, n_vocab, ctx)
        reply = Reply(job, cached, stream, chain, n_ctx, time.perf_counter(), evaluated=cached)
        reply.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        reply.stops = StopMatcher(sampling.stop) if sampling.stop else None
        if sampling.top_logprobs >= 0:
            stream.batcher.probs = reply.probs
        self.reply = reply
        return reply

    def pick(self, ctx: Any, index: int, rows: LogitRows, facts: TokenFacts) -> int:
        """The next token from the logits at batch output `index`, by this reply's own sampling."""
        reply = self.reply
        assert reply is not None
        prompt_end = reply.evaluated == len(reply.job.tokens) and not reply.generated
        wanted = reply.chain is None or prompt_end or reply.job.sampling.top_logprobs >= 0
        row = rows(index) if wanted else None  # one look-up per token, and none for a chain that needs no row
        if prompt_end:  # keep its logits for the same prompt again (kept_logits)
            assert row is not None
            self.replay = (tuple(reply.job.tokens), row.copy())
        if reply.chain is None:
            assert row is not None
            token = int(row.argmax())
        else:
            token = int(llama_cpp.llama_sampler_sample(reply.chain, ctx, index))
        self._record_probs(row, token, facts)
        return token

    def pick_kept(self, logits: FloatRow, facts: TokenFacts) -> int:
        """The first token from logits kept from the same prompt's first reading (kept_logits)."""
        reply = self.reply
        assert reply is not None
        token = int(logits.argmax()) if reply.chain is None else sample_from(reply.chain, logits)
        self._record_probs(logits, token, facts)
        return token

    def _record_probs(self, logits: FloatRow | None, token: int, facts: TokenFacts) -> None:
        reply = self.reply
        assert reply is not None
        top = reply.job.sampling.top_logprobs
        if top >= 0:
            assert logits is not None
            reply.probs.append(measure(logits, token, top, facts))

    def accept(self, token: int, facts: TokenFacts, on_text: Callable[[str, int], None]) -> StopReason | None:
        """Take a picked token as decode_reply does; the reason the reply ends, or None to go on."""
        reply = self.reply
        assert reply is not None
        reply.t_last = now = time.perf_counter()
        generated = reply.generated
        if not generated and not reply.t_first:
            reply.t_first = now
        ends, piece = facts[token]
        if ends:
            return StopReason.EOS
        generated.append(token)
        if piece:
            text = reply.decoder.decode(piece)
            if reply.stops is not None and text:
                text, hit = reply.stops.feed(text)
                if hit:
                    if text:
                        reply.pieces.append(text)
                        on_text(text, len(generated))
                    return StopReason.STOP
            if text:
                reply.pieces.append(text)
                on_text(text, len(generated))
        if len(generated) >= (reply.job.sampling.max_tokens or reply.n_ctx):
            return StopReason.LENGTH
        if len(self.kv) >= reply.n_ctx:
            return StopReason.CONTEXT_FULL
        reply.next_token = token
        return None

    def finish(self, reason: StopReason, on_text: Callable[[str, int], None]) -> tuple[str, p.Stats]:
        """End the reply: the text held back, the stats; frees the sampler. The slot is free after."""
        reply = self.reply
        assert reply is not None
        self.reply = None
        if reply.chain is not None:
            llama_cpp.llama_sampler_free(reply.chain)
        tail = reply.decoder.decode(b"", final=True)
        if reason != StopReason.STOP and reply.stops is not None:
            tail += reply.stops.flush()
        if tail:
            reply.pieces.append(tail)
            on_text(tail, len(reply.generated))
        job, generated = reply.job, reply.generated
        t_end = reply.t_last or time.perf_counter()
        t_first = reply.t_first or t_end
        prompt_s = t_first - reply.t_eval
        decode_s = t_end - t_first
        stats = p.Stats(
            prompt_tokens=len(job.tokens),
            cached_tokens=reply.cached,
            completion_tokens=len(generated),
            ttft_s=t_first - job.t0,
            prompt_tok_s=(len(job.tokens) - reply.cached) / prompt_s if prompt_s > 0 else 0.0,
            decode_tok_s=(len(generated) - 1) / decode_s if decode_s > 0 and len(generated) > 1 else 0.0,
            stop_reason=reason,
            n_ctx=reply.n_ctx,
        )
        return "".join(reply.pieces), stats


def slow_readings(slots: list[BatchSlot], after: float) -> list[p.Reading]:
    """How far each prompt still being read has got, for those read for over `after` seconds.

    Called by the worker's heartbeat thread while the main thread steps the batch: it only reads
    numbers, each through one local reference to a reply that may end meanwhile."""
    now, found = time.perf_counter(), []
    for slot in slots:
        reply = slot.reply  # `evaluated` counts prompt tokens only: below the prompt's length, it is being read
        if reply is not None and reply.evaluated < len(reply.job.tokens) and now - reply.t_eval >= after:
            found.append(p.Reading(reply.job.request_id, reply.evaluated, len(reply.job.tokens)))
    return found


def prepare(model: LoadedModel, request: p.Chat | p.Complete, sampling: SamplingParams, t0: float) -> Prepared:
    """The request's prompt ids, rendered and fitted as Worker.chat and LoadedModel.generate do."""
    if isinstance(request, p.Complete):
        tokens = model.tokenize(request.prompt, add_bos=model.encoder.add_bos)
        if not tokens:
            raise EngineError(ErrorKind.BAD_REQUEST, "the prompt is empty")
        job = Prepared(request.id, sampling, request.prompt, tokens, None, t0)
    else:
        count = functools.partial(model.count, thinking=request.thinking, tools=request.tools)
        budget = fit_messages(request.messages, count, model.n_ctx, request.overflow, sampling.max_tokens)
        if not budget.fits:
            raise EngineError(ErrorKind.CONTEXT_OVERFLOW, refusal_message(budget, request.overflow, model.n_ctx))
        messages = budget.messages
        prompt, _ = model.encode(messages, request.thinking, request.tools)
        prefill = messages[-1].content if messages and messages[-1].prefill else None
        text, tokens = model.encode(messages[:-1] if prefill is not None else messages, request.thinking,
                                    request.tools)
        if prefill:
            text, tokens = text + prefill, tokens + model.tokenize(prefill, False, special=False)
        job = Prepared(request.id, sampling, text, tokens, ReasoningParser(prompt), t0,
                       budget.dropped_messages, budget.truncated)
    if len(job.tokens) >= model.n_ctx:
        raise EngineError(ErrorKind.CONTEXT_OVERFLOW, too_long_message(len(job.tokens), model.n_ctx))
    return job
