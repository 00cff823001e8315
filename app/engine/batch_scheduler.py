"""Continuous batching: the engine's main thread decodes up to n_parallel replies together.

A model loaded with LoadOptions.n_parallel > 1 has one context with that many sequences. Each
Chat or Complete request takes a free slot (batch_slots.py; a sequence id with its prompt cache);
every step is one llama_decode over one llama_batch: the next token of each reply under way, or
the next chunk (up to n_batch tokens) of one newcomer's prompt, alone (_plan says why), the two in
turn. A request joins or leaves between two steps; one stopped (its id in Worker.stopped) leaves at
the next step and the others never notice. More requests than slots wait in order.

Run exclusively instead (the batch drains, then the worker handles them alone as before): chats
with images (libmtmd evaluates an image in its own decode calls on sequence 0), and every request
that is not a reply (load, unload, shutdown). A prompt render is answered between two steps.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import llama_cpp

from app.engine import batch_slots
from app.engine import protocol as p
from app.engine.batch_slots import BatchSlot, LogitRows, Prepared
from app.engine.protocol import EngineError, ErrorKind, StopReason
from app.engine.reasoning import ReasoningParser
from app.engine.sampler_chain import check_grammar
from app.engine.token_batch import TokenBatch
from app.engine.vision import has_images

if TYPE_CHECKING:
    from app.engine.runtime import LoadedModel

REUSE_AT_LEAST = 64  # cached prompt tokens that make a slot worth more than keeping the sequences contiguous
# How often a reply's text goes out while other replies share the batch (alone: the stream's own 40 ms).
# Every message costs the engine a pickle and a pipe write, the server a dispatch, two thread hand-offs
# and an SSE event, and its client a parse, all on the cores the batch decodes on; one message per
# ~0.1 s per reply is still a smooth stream. The first text of each reply is never held back.
SHARED_FLUSH_SECONDS = 0.1
# worker.ReplyStream (passed in: this module and worker.py must not import each other)
StreamMaker = Callable[[int, ReasoningParser | None, Callable[[p.Event], None]], Any]


class WorkerSide(Protocol):
    """What the scheduler uses of the engine's Worker."""

    model: LoadedModel | None
    requests: queue.Queue[p.Request]
    stopped: set[int]
    cancel_lock: threading.Lock  # the reader thread adds to `stopped` under it

    def send(self, event: p.Event) -> None: ...

    def handle(self, request: p.Request) -> None: ...


_current: BatchScheduler | None = None  # the engine process's one worker's, for the model it has loaded


def run_batched(worker: WorkerSide, request: p.Request, make_stream: StreamMaker) -> tuple[bool, p.Request | None]:
    """(whether the batch took `request`, a request it left to run alone once it drained): the Worker's hook."""
    batch = scheduler_for(worker, make_stream) if isinstance(request, (p.Chat, p.Complete)) else None
    if batch is None or not batch.takes(request):
        return False, None
    assert isinstance(request, (p.Chat, p.Complete))
    return True, batch.run(request)


def slow_readings(after: float) -> list[p.Reading]:
    """The batch's prompts read for over `after` seconds, how far each has got (for the heartbeat)."""
    batch = _current
    return [] if batch is None else batch_slots.slow_readings(batch.slots, after)


def scheduler_for(worker: WorkerSide, make_stream: StreamMaker) -> BatchScheduler | None:
    """The worker's scheduler for the model it has loaded, or None when that model decodes one sequence."""
    global _current
    model = worker.model
    if model is None or getattr(model, "n_parallel", 1) <= 1:
        return None
    if _current is None or _current.model is not model or _current.worker is not worker:
        _current = BatchScheduler(worker, model, make_stream)
    return _current


class BatchScheduler:
    def __init__(self, worker: WorkerSide, model: LoadedModel, make_stream: StreamMaker) -> None:
        self.worker, self.model, self.make_stream = worker, model, make_stream
        n = model.n_parallel
        self.slots = [BatchSlot(0, model.kv_tokens)] + [BatchSlot(seq, []) for seq in range(1, n)]
        self.unified = bool(model.options.kv_unified)
        self.n_cells = int(llama_cpp.llama_n_ctx(model.ctx))  # all sequences' cells (split or shared)
        self.batch = TokenBatch(max(model.n_batch, n))  # llama_decode takes at most n_batch tokens
        self.rows = LogitRows(model.ctx, model.n_vocab)
        self.waiting: deque[p.Chat | p.Complete] = deque()
        self.deferred: p.Request | None = None  # a request to run alone once the batch has drained
        self.steps = 0
        self._prompt_last = False  # the last step read a prompt chunk: the next one writes (_plan)
        self.solo_flush: float | None = None  # a stream's own flush interval (worker.TokenBatcher's)

    @staticmethod
    def takes(request: p.Request) -> bool:
        if isinstance(request, p.Complete):
            return True
        return isinstance(request, p.Chat) and not has_images(request.messages)

    # ------------------------------------------------------------ the loop

    def run(self, first: p.Chat | p.Complete) -> p.Request | None:
        """Answer `first` and every reply that comes meanwhile; returns the request that must run alone."""
        self.waiting.append(first)
        while True:
            if self.deferred is None:
                self._pull()
            self._stop_cancelled()
            self._admit()
            active = [slot for slot in self.slots if slot.reply is not None]
            if not active:
                deferred, self.deferred = self.deferred, None
                if deferred is not None and self.unified:
                    self._free_others_for_seq0()
                return deferred
            try:
                self._step(active)
            except Exception as exc:  # noqa: BLE001 (never let one step take the engine down)
                self._fail_all(active, exc)

    def _pull(self) -> None:
        """Take the requests that came since the last step, without waiting."""
        while True:
            try:
                request = self.worker.requests.get_nowait()
            except queue.Empty:
                return
            if self.takes(request):
                self.waiting.append(request)  # type: ignore[arg-type]
            elif isinstance(request, p.RenderPrompt):
                self.worker.handle(request)
            else:
                self.deferred = request
                return

    def _stop_cancelled(self) -> None:
        with self.worker.cancel_lock:  # a copy: the reader thread adds stops meanwhile
            stopped = set(self.worker.stopped)
        everyone = self.model._cancel.is_set()
        for slot in self.slots:
            if slot.reply is not None and (everyone or slot.reply.job.request_id in stopped):
                self._finish(slot, StopReason.CANCELLED)
        for request in [r for r in self.waiting if everyone or r.id in stopped]:
            self.waiting.remove(request)
            self._send_cancelled(request)
        if everyone:
            self.model._cancel.clear()

    # ------------------------------------------------------------ joining

    def _admit(self) -> None:
        while self.waiting:
            free = [slot for slot in self.slots if slot.reply is None]
            if not free:
                return
            request = self.waiting[0]
            try:
                job = self._prepare(request)
            except Exception as exc:  # noqa: BLE001 (one bad request fails alone)
                self.waiting.popleft()
                self._fail(request.id, exc)
                continue
            if job is None:
                self.waiting.popleft()
                continue
            slot = self._choose(free, job.tokens)
            if self.model.prompts is not None:  # as LoadedModel._generate (prompt_store.py)
                self.model.prompts.exchange(slot.seq, slot.kv, job.tokens)
            kept = slot.kept_logits(job.tokens)  # the same prompt again (a regenerated reply): nothing to read
            keep = len(job.tokens) if kept is not None else slot.common_prefix(job.tokens)
            cached = slot.keep(self.model.memory, keep)
            if not self._room_for(slot, len(job.tokens) - cached):
                return  # a shared cache is full: it waits for a reply to end
            self.waiting.popleft()
            self.steps += 1
            slot.last_used = self.steps
            stream = self.make_stream(job.request_id, job.parser, self.worker.send)
            slot.start(job, cached, stream, self.model.n_vocab, self.model.n_ctx, self.model.ctx)
            self._pace()
            if kept is not None and cached == len(job.tokens):
                reason = slot.accept(slot.pick_kept(kept, self.model._token_facts), self.model._token_facts,
                                     stream.on_text)
                if reason is not None:
                    self._finish(slot, reason)

    def _pace(self) -> None:
        """Each reply's flush interval: its own when it is alone, SHARED_FLUSH_SECONDS beside others."""
        streams = [slot.reply.stream for slot in self.slots if slot.reply is not None]
        if not streams:
            return
        if self.solo_flush is None:
            self.solo_flush = float(streams[0].batcher.interval)
        interval = self.solo_flush if len(streams) == 1 else max(self.solo_flush, SHARED_FLUSH_SECONDS)
        for stream in streams:
            stream.batcher.interval = interval

    @staticmethod
    def _choose(free: list[BatchSlot], tokens: list[int]) -> BatchSlot:
        """The free slot whose cache holds most of the prompt when that saves much, else the lowest sequence id.

        With split KV streams llama.cpp puts only consecutive sequence ids into one ubatch (split_equal,
        sequential): replies on sequences 0, 2 and 3 cost two passes over the weights per token, on 0, 1
        and 2 one. A shared system prompt of a few dozen tokens is cheaper to read again than that."""
        replay = [s for s in free if s.kept_logits(tokens) is not None]  # this very prompt, read here last
        if replay:
            return replay[0]
        best = max(free, key=lambda s: (s.common_prefix(tokens), -s.seq))
        if best.common_prefix(tokens) >= max(REUSE_AT_LEAST, len(tokens) // 2):
            return best
        return min(free, key=lambda s: s.seq)

    def _prepare(self, request: p.Chat | p.Complete) -> Prepared | None:
        """The request's prompt ids (rendered as Worker.chat and LoadedModel.generate do); None if stopped."""
        model, t0 = self.model, time.perf_counter()
        sampling = request.sampling.validated()
        if request.id in self.worker.stopped:
            self._send_cancelled(request)
            return None
        check_grammar(model.vocab, sampling.grammar)  # one a slot's chain cannot use fails this request alone
        self._forget_stops(request.id)
        return batch_slots.prepare(model, request, sampling, t0)

    def _room_for(self, chosen: BatchSlot, needed: int) -> bool:
        """Whether a shared (unified) cache has `needed` more cells, dropping idle slots' caches if need be."""
        if not self.unified:
            return True  # each sequence has its own n_ctx / n_parallel cells
        used = sum(len(slot.kv) for slot in self.slots)
        idle = sorted((s for s in self.slots if s.reply is None and s is not chosen and s.kv),
                      key=lambda s: s.last_used)
        while used + needed > self.n_cells and idle:
            victim = idle.pop(0)
            used -= len(victim.kv)
            victim.keep(self.model.memory, 0)
        if used + needed <= self.n_cells:
            return True
        if all(slot.reply is None for slot in self.slots):  # alone it still does not fit: no wait helps
            chosen.keep(self.model.memory, 0)
            return used - len(chosen.kv) + needed <= self.n_cells
        return False

    def _free_others_for_seq0(self) -> None:
        """Before a request runs alone on sequence 0, the others' cells go back to the shared pool."""
        for slot in self.slots[1:]:
            slot.keep(self.model.memory, 0)

    # ------------------------------------------------------------ one step

    def _plan(self, active: list[BatchSlot]) -> list[tuple[BatchSlot, list[int], bool]]:
        """This step's (slot, tokens, wants logits): a token of each reply being written, or one prompt's chunk.

        A prompt chunk goes alone, so it is computed as when its request has the engine to itself: llama.cpp
        cuts a mixed batch into equal ubatches (a token of each sequence, then the prompt's rest), and its CPU
        kernels round a few rows differently from many (llamafile's below 2, the tiled K-quants' below 8): a
        greedy near tie could flip. With split KV streams (every load Hearth makes) that costs no pass over the
        weights, a mixed batch being two ubatches too. Chunks and tokens take turns; prompts waiting together
        are read one after another, the oldest first, so a lone newcomer's is read at the next step."""
        readers = [slot for slot in active if slot.reply is not None and slot.reply.next_token < 0]
        writers = [slot for slot in active if slot.reply is not None and slot.reply.next_token >= 0]
        if readers and (not writers or not self._prompt_last):
            self._prompt_last = True
            slot = min(readers, key=lambda s: s.last_used)  # the longest waiting first
            reply = slot.reply
            assert reply is not None
            tokens = reply.job.tokens
            chunk = tokens[reply.evaluated: reply.evaluated + self.batch.capacity]
            return [(slot, chunk, reply.evaluated + len(chunk) == len(tokens))]
        self._prompt_last = False
        plan: list[tuple[BatchSlot, list[int], bool]] = []
        for slot in writers:
            reply = slot.reply
            assert reply is not None
            if self.unified and sum(len(s.kv) for s in self.slots) + len(plan) >= self.n_cells:
                self._finish(slot, StopReason.CONTEXT_FULL)
                continue
            plan.append((slot, [reply.next_token], True))
        return plan

    def _step(self, active: list[BatchSlot]) -> None:
        batch, model = self.batch, self.model
        batch.clear()
        outputs: list[tuple[BatchSlot, int]] = []
        fed: list[tuple[BatchSlot, list[int]]] = []
        plan, reading = self._plan(active), self._prompt_last
        for slot, tokens, wants_logits in plan:  # by sequence id (BatchSlot order): see _choose
            index = batch.add(tokens, len(slot.kv), slot.seq, wants_logits)
            fed.append((slot, tokens))
            if wants_logits:
                outputs.append((slot, index))
        if not fed:
            return
        fit = model.thread_fit
        if reading or fit.threads != fit.applied:  # a prompt is read (thread_fit looks again), or the count changed
            fit.apply(model.ctx)
        rc = batch.decode(model.ctx)
        if rc != 0:
            self._failed_step(fed, rc)
            return
        for slot, tokens in fed:
            slot.kv.extend(tokens)
            reply = slot.reply
            assert reply is not None
            if reply.next_token < 0:
                reply.evaluated += len(tokens)
        facts = model._token_facts
        for slot, index in outputs:
            reply = slot.reply
            assert reply is not None
            reply.next_token = -1
            on_text = reply.stream.on_text
            reason = slot.accept(slot.pick(model.ctx, index, self.rows, facts), facts, on_text)
            if reason is not None:
                self._finish(slot, reason)

    def _failed_step(self, fed: list[tuple[BatchSlot, list[int]]], rc: int) -> None:
        """A batch llama.cpp refused: the replies in it end (a full cache: CONTEXT_FULL), the others go on."""
        for slot, _tokens in fed:  # llama.cpp undoes only the ubatch that failed: drop what earlier ones wrote
            if not llama_cpp.llama_memory_seq_rm(self.model.memory, slot.seq, len(slot.kv), -1):
                slot.keep(self.model.memory, 0)
            reply = slot.reply
            if reply is None:
                continue
            if reply.next_token >= 0:
                self._finish(slot, StopReason.CONTEXT_FULL if rc == 1 else StopReason.ERROR)
            else:
                slot.reply = None
                if reply.chain is not None:
                    llama_cpp.llama_sampler_free(reply.chain)
                kind = ErrorKind.OUT_OF_MEMORY if rc < 0 or rc == 1 else ErrorKind.INTERNAL
                self.worker.send(p.Error(reply.job.request_id, kind,
                                         f"llama.cpp failed to evaluate the prompt (code {rc})"))

    # ------------------------------------------------------------ ending

    def _finish(self, slot: BatchSlot, reason: StopReason) -> None:
        reply = slot.reply
        assert reply is not None
        job, stream = reply.job, reply.stream
        reply_text, stats = slot.finish(reason, stream.on_text)
        if reason in (StopReason.EOS, StopReason.LENGTH, StopReason.CONTEXT_FULL, StopReason.CANCELLED):
            # the next turn of this chat reuses the generated ids rather than re-tokenizing (runtime._encode)
            self.model._last = (job.text_prompt + reply_text, list(job.tokens) + reply.generated)
        stream.finish()
        stats = p.Stats(**{
            **stats.__dict__,
            "dropped_messages": job.dropped_messages,
            "truncated": job.truncated,
            "reasoning_tokens": stream.reasoning_tokens(stats.completion_tokens),
            "reasoning_s": stream.reasoning_seconds(),
        })
        self.worker.send(p.Done(job.request_id, stats, "".join(stream.answer), job.sampling,
                                "".join(stream.reasoning), tuple(reply.probs[:len(reply.generated)])))
        with self.worker.cancel_lock:
            self.worker.stopped.discard(job.request_id)
        self._pace()

    def _send_cancelled(self, request: p.Chat | p.Complete) -> None:
        with self.worker.cancel_lock:
            self.worker.stopped.discard(request.id)
        self.worker.send(p.Done(request.id, p.Stats(stop_reason=StopReason.CANCELLED), "",
                                request.sampling.validated()))

    def _forget_stops(self, newest: int) -> None:
        """Stops for ids older than every request still here are over (ids only grow)."""
        alive = [slot.reply.job.request_id for slot in self.slots if slot.reply is not None]
        oldest = min([newest, *alive, *(r.id for r in self.waiting)])
        with self.worker.cancel_lock:
            self.worker.stopped.difference_update([i for i in self.worker.stopped if i < oldest])

    def _fail_all(self, active: list[BatchSlot], exc: Exception) -> None:
        """A step that raised: its replies fail with the reason, their sequences are cleared."""
        for slot in active:
            reply, slot.reply = slot.reply, None
            slot.keep(self.model.memory, 0)
            if reply is not None:
                if reply.chain is not None:
                    llama_cpp.llama_sampler_free(reply.chain)
                self._fail(reply.job.request_id, exc)

    def _fail(self, request_id: int, exc: Exception) -> None:
        if isinstance(exc, EngineError):
            self.worker.send(p.Error(request_id, exc.kind, exc.message))
        else:
            self.worker.send(p.Error(request_id, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}",
                                     detail=traceback.format_exc()))
