"""The engine process: owns the llama.cpp model, answers one request at a time.

Threads, each with one job:
- reader: takes requests off the pipe and never works on them itself, so Cancel reaches a
  running generation between two tokens however busy the others are;
- count: answers Count requests (the context meter's) even while a reply streams, using
  only what LoadedModel allows from another thread (`count_tokens`);
- heartbeat: proves the process is alive while a request is busy;
- main: loads, generates and renders, one request at a time.
"""

from __future__ import annotations

import functools
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from app.engine import protocol as p
from app.engine.context import fit_messages, refusal_message
from app.engine.count_thread import answer_with_model
from app.engine.protocol import EngineError, ErrorKind
from app.engine.reasoning import ReasoningParser, Split
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenProbs

if TYPE_CHECKING:  # runtime imports llama.cpp, which the worker imports only once it runs (see run())
    from app.engine.runtime import Generated, LoadedModel

# Streamed text is sent in batches: the first piece at once (time to first token), then at most
# one pipe message per 40 ms, the rate the chat view repaints at (chat_session.FLUSH_MS). Each message
# wakes the receiving process, which on a small CPU takes a core from the decoding threads.
FLUSH_SECONDS = 0.04


class TokenBatcher:
    """Collects streamed text pieces and sends them as few Token events as the flush interval allows."""

    def __init__(self, request_id: int, send: Callable[[p.Event], None],
                 interval: float = FLUSH_SECONDS, clock: Callable[[], float] = time.perf_counter) -> None:
        self.request_id = request_id
        self.send = send
        self.interval = interval
        self.clock = clock
        self.pending: list[str] = []
        self.pending_reasoning: list[str] = []
        self.n_tokens = 0
        self.last_sent: float | None = None
        self.probs: list[TokenProbs] | None = None  # the reply's token probabilities so far, when asked for
        self.probs_sent = 0

    def add(self, text: str, n_tokens: int, reasoning: str = "") -> None:
        if text:
            self.pending.append(text)
        if reasoning:
            self.pending_reasoning.append(reasoning)
        self.n_tokens = n_tokens
        now = self.clock()
        if self.last_sent is None or now - self.last_sent >= self.interval:
            self.last_sent = now
            self.flush()

    def flush(self) -> None:
        if self.pending or self.pending_reasoning:
            probs: tuple[TokenProbs, ...] = ()
            if self.probs is not None:
                probs = tuple(self.probs[self.probs_sent:self.n_tokens])
                self.probs_sent += len(probs)
            self.send(p.Token(self.request_id, "".join(self.pending), self.n_tokens, "".join(self.pending_reasoning),
                              probs))
            self.pending.clear()
            self.pending_reasoning.clear()
HEARTBEAT_SECONDS = 0.5  # while a request runs; the client gives up after seconds of silence
READING_AFTER_SECONDS = 1.0  # a prompt read that takes longer is reported (protocol.Reading)


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.send_lock = threading.Lock()
        self.model_lock = threading.Lock()  # held while the model is created or freed
        self.model: LoadedModel | None = None
        self.requests: queue.Queue[p.Request] = queue.Queue()
        self.counts: queue.Queue[p.Count | p.Tokenize | None] = queue.Queue()  # Count requests, then None to stop
        self.current: p.Request | None = None  # the request the main thread works on (for the heartbeat)
        self.busy_since = 0.0
        self.current_chat = 0
        self.cancel_lock = threading.Lock()  # current_chat and stopped change together
        self.stopped: set[int] = set()  # chats told to stop: a queued one is answered "cancelled" at its turn
        self.busy = threading.Event()  # set while the main thread works on a request

    def send(self, event: p.Event) -> None:
        with self.send_lock:
            self.conn.send(event)

    # ---------------------------------------------------------- reader thread

    def read_requests(self) -> None:
        while True:
            try:
                request = self.conn.recv()
            except (EOFError, OSError):
                self.counts.put(None)
                self.requests.put(p.Shutdown())
                return
            if isinstance(request, p.Cancel):
                self.cancel(request.id)
            elif isinstance(request, (p.Count, p.Tokenize)):  # a Tokenize too: token_jobs.py
                self.counts.put(request)
            else:
                if isinstance(request, p.Load):
                    # Answer at once, even while the main thread is still importing llama.cpp.
                    self.send(p.Progress(request.id, 0.0))
                self.requests.put(request)
                if isinstance(request, p.Shutdown):
                    self.counts.put(None)
                    return

    def cancel(self, request_id: int) -> None:
        """Stop one chat by its id (0: whichever is running), whether it runs now or waits in the queue."""
        with self.cancel_lock:
            if request_id:
                self.stopped.add(request_id)
            model = self.model
            if model is not None and request_id in (self.current_chat, 0):
                model.cancel()

    # ---------------------------------------------------------- count thread

    def answer_counts(self) -> None:
        while (request := self.counts.get()) is not None:
            if isinstance(request, p.Tokenize):  # token_jobs.py imports llama.cpp: imported when first asked
                from app.engine.token_jobs import answer_tokenize
                answer_tokenize(self, request)
            else:
                self.answer_count(request)

    def answer_count(self, request: p.Count) -> None:
        def counted(model: LoadedModel) -> p.Event:
            messages = list(request.messages)
            if request.draft or (not messages and request.tools):
                # (an empty chat with tools on: its first message's frame, so the schemas' cost shows at once;
                # templates such as Qwen 2.5's read messages[0] when given tools and fail on none)
                messages.append(p.ChatMessage("user", request.draft))
            count = functools.partial(model.count_tokens, thinking=request.thinking)
            if request.tools:  # their schemas take tokens too (a count without tools: as before)
                count = functools.partial(count, tools=request.tools)
            budget = fit_messages(messages, count, model.n_ctx, request.overflow, request.max_tokens)
            return p.Counted(request.id, p.CountResult(
                prompt_tokens=budget.prompt_tokens, n_ctx=model.n_ctx, untrimmed_tokens=budget.untrimmed_tokens,
                dropped_messages=budget.dropped_messages, truncated=budget.truncated, fits=budget.fits,
                chat_template=model.template.origin))
        answer_with_model(self, request, counted)

    # ---------------------------------------------------------- heartbeat thread

    def send_heartbeats(self) -> None:
        """Prove the process is running while a request is busy (a stopped process sends nothing);
        with a batch, the heartbeat is how far each of its slow prompts has been read."""
        while True:
            self.busy.wait()
            time.sleep(HEARTBEAT_SECONDS)
            if not self.busy.is_set():
                continue
            from app.engine import batch_scheduler  # (imports llama.cpp, as the busy main thread has)
            try:
                events: list[p.Event] = [*batch_scheduler.slow_readings(READING_AFTER_SECONDS)]
                for event in events or [self.heartbeat()]:
                    self.send(event)
            except (OSError, ValueError):
                return

    def heartbeat(self) -> p.Reading | p.Heartbeat:
        """How far a slow prompt has been read (a heartbeat too), else a plain heartbeat."""
        model, request = self.model, self.current
        reading = getattr(model, "reading", None)
        if reading and isinstance(request, (p.Chat, p.Complete)) and \
                time.monotonic() - self.busy_since >= READING_AFTER_SECONDS:
            return p.Reading(request.id, *reading)
        return p.Heartbeat()

    # ---------------------------------------------------------- main thread

    def run(self) -> None:
        threading.Thread(target=self.read_requests, name="engine-reader", daemon=True).start()
        threading.Thread(target=self.answer_counts, name="engine-count", daemon=True).start()
        threading.Thread(target=self.send_heartbeats, name="engine-heartbeat", daemon=True).start()
        import app.engine.runtime  # noqa: F401  (llama.cpp's import overlaps with the caller's first request)
        from app.engine.batch_scheduler import run_batched
        deferred: p.Request | None = None  # what a batch (a model with n_parallel > 1) left to run alone
        while True:
            request, deferred = deferred or self.requests.get(), None
            if isinstance(request, p.Shutdown):
                self.unload()
                return
            self.current, self.busy_since = request, time.monotonic()
            self.busy.set()
            try:
                taken, deferred = run_batched(self, request, ReplyStream)
                if not taken:
                    self.handle(request)
            finally:
                self.busy.clear()

    def handle(self, request: p.Request) -> None:
        try:
            if isinstance(request, p.Load):
                self.load(request)
            elif isinstance(request, p.Chat):
                self.chat(request)
            elif isinstance(request, p.Complete):
                self.complete(request)
            elif isinstance(request, p.RenderPrompt):
                self.render_prompt(request)
            elif isinstance(request, p.NextTokens):  # the sampling chart's (token_jobs.py)
                from app.engine.token_jobs import answer_next_tokens
                answer_next_tokens(self, request)
            elif isinstance(request, p.Unload):
                self.unload()
                self.send(p.Unloaded(request.id))
        except EngineError as exc:
            self.send(p.Error(request.id, exc.kind, exc.message))
        except MemoryError:
            self.send(p.Error(request.id, ErrorKind.OUT_OF_MEMORY, "the engine ran out of memory"))
        except Exception as exc:  # noqa: BLE001 (never let one request take the engine down)
            self.send(p.Error(request.id, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}",
                              detail=traceback.format_exc()))  # the client writes it to Hearth's log

    def render_prompt(self, request: p.RenderPrompt) -> None:
        model = self.model
        if model is None:
            raise EngineError(ErrorKind.NO_MODEL, "no model is loaded: choose a model first")
        try:
            text, tokens = model.encode(request.messages, request.thinking)
        except ValueError as exc:
            raise EngineError(ErrorKind.BAD_REQUEST, str(exc)) from exc
        self.send(p.Rendered(request.id, text, len(tokens), model.template.origin))

    def unload(self) -> None:
        with self.model_lock:
            if self.model is not None:
                self.model.close()
                self.model = None

    def load(self, request: p.Load) -> None:
        from app.engine.offload import load_model
        from app.engine.runtime import LoadedModel

        self.unload()  # the old model's memory is released before the new one is mapped
        last = [0.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.02 or (fraction >= 1.0 > last[0]):
                last[0] = fraction
                self.send(p.Progress(request.id, fraction))

        with self.model_lock:
            self.model = model = load_model(LoadedModel, request.options, progress, gguf=request.gguf)
        self.send(p.Loaded(request.id, model.info))

    def _start_generation(self, request: p.Chat | p.Complete) -> tuple[LoadedModel | None, SamplingParams]:
        """The loaded model and the request's checked sampling; Cancel now reaches this request.

        A request stopped while it waited its turn is answered at once (Done, cancelled): model is None."""
        model = self.model
        if model is None:
            raise EngineError(ErrorKind.NO_MODEL, "no model is loaded: choose a model first")
        sampling = request.sampling.validated()
        with self.cancel_lock:
            self.current_chat = request.id
            self.stopped = {i for i in self.stopped if i >= request.id}  # ids only grow: older ones are over
            stopped = request.id in self.stopped
        if stopped:
            self.current_chat = 0
            self.send(p.Done(request.id, p.Stats(stop_reason=p.StopReason.CANCELLED), "", sampling))
            return None, sampling
        return model, sampling

    def chat(self, request: p.Chat) -> None:
        model, sampling = self._start_generation(request)
        if model is None:
            return
        count = functools.partial(model.count, thinking=request.thinking, tools=request.tools)
        budget = fit_messages(request.messages, count, model.n_ctx, request.overflow, sampling.max_tokens)
        if not budget.fits:
            raise EngineError(ErrorKind.CONTEXT_OVERFLOW, refusal_message(budget, request.overflow, model.n_ctx))
        prompt, _ = model.encode(budget.messages, request.thinking, request.tools)  # remembered: rendered once
        self.stream(request.id, sampling, ReasoningParser(prompt),
                    lambda on_text: model.generate(budget.messages, sampling, on_text, thinking=request.thinking,
                                                   tools=request.tools),
                    budget.dropped_messages, budget.truncated)

    def complete(self, request: p.Complete) -> None:
        model, sampling = self._start_generation(request)
        if model is None:
            return
        self.stream(request.id, sampling, None, lambda on_text: model.complete(request.prompt, sampling, on_text))

    def stream(self, request_id: int, sampling: SamplingParams, parser: ReasoningParser | None,
               generate: Callable[[Callable[[str, int], None]], Generated],
               dropped_messages: int = 0, truncated: bool = False) -> None:
        """Run one generation, sending its text in small batches (thinking apart), then Done."""
        stream = ReplyStream(request_id, parser, self.send)
        model = self.model
        assert model is not None  # _start_generation found it
        if sampling.top_logprobs >= 0:
            stream.batcher.probs = model.token_probs

        def on_text(text: str, n_tokens: int) -> None:
            if request_id in self.stopped:  # a Stop that came before the generation began is not lost
                model.cancel()
            stream.on_text(text, n_tokens)

        try:
            result = generate(on_text)
        finally:
            self.current_chat = 0
        stream.finish()
        stats = result.stats
        stats = p.Stats(**{
            **stats.__dict__,
            "dropped_messages": dropped_messages,
            "truncated": truncated,
            "reasoning_tokens": stream.reasoning_tokens(stats.completion_tokens),
            "reasoning_s": stream.reasoning_seconds(),
        })
        answer = "".join(stream.answer)
        self.send(p.Done(request_id, stats, answer, sampling, "".join(stream.reasoning), tuple(result.probs)))


class ReplyStream:
    """Splits the streaming reply into thinking and answer; a TokenBatcher sends it in few messages."""

    def __init__(self, request_id: int, parser: ReasoningParser | None, send: Callable[[p.Event], None]) -> None:
        self.parser = parser
        self.batcher = TokenBatcher(request_id, send)
        self.answer: list[str] = []
        self.reasoning: list[str] = []
        self._n_tokens = 0
        self._started = 0.0  # first text of the reply
        self._thinking_ended = 0.0  # first answer text after thinking
        self._thinking_tokens = -1  # completion tokens when the answer started

    def on_text(self, text: str, n_tokens: int) -> None:
        self._n_tokens = n_tokens
        parser = self.parser
        if parser is None:  # answer text as written: no thinking, or past it (runs per token: kept short)
            self.answer.append(text)
            self.batcher.add(text, n_tokens)
            return
        now = time.perf_counter()
        if not self._started:
            self._started = now
        self._take(parser.feed(text), now)
        if parser.settled:
            self.parser = None

    def finish(self) -> None:
        if self.parser:
            self._take(self.parser.flush(), time.perf_counter())
        self.batcher.flush()

    def _take(self, split: Split, now: float) -> None:
        if split.reasoning:
            self.reasoning.append(split.reasoning)
        if split.answer:
            if self._thinking_tokens < 0 and self.reasoning:
                self._thinking_tokens = max(self._n_tokens - 1, 0)
                self._thinking_ended = now
            self.answer.append(split.answer)
        if split.answer or split.reasoning:
            self.batcher.add(split.answer, self._n_tokens, split.reasoning)

    def reasoning_tokens(self, completion_tokens: int) -> int:
        if not self.reasoning:
            return 0
        return self._thinking_tokens if self._thinking_tokens >= 0 else completion_tokens

    def reasoning_seconds(self) -> float:
        if not self.reasoning:
            return 0.0
        end = self._thinking_ended or time.perf_counter()
        return max(end - self._started, 0.0)


def main(conn: Connection) -> None:
    # A count (its template render is Python) must not hold the interpreter while the main thread has a
    # token to decode: the main thread gets it back within half a millisecond rather than Python's 5 ms.
    sys.setswitchinterval(0.0005)
    Worker(conn).run()
