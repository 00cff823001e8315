"""The app's handle on the engine process.

Starts the worker (spawn), sends requests, routes events back to the caller
that asked, notices when the worker dies, and starts a fresh one (reloading
the last model) on the next request. Safe to use from several threads: chats from
several callers (the GUI, the API server) take turns in the engine in the order sent,
each stopped by its own `stop` event, never another's. Counts and cancel from anywhere.

A busy worker sends a Heartbeat at least every second. A caller waiting on the engine never
blocks forever: after `hang_timeout` seconds without any event the engine is declared hung,
killed, and the caller gets an ErrorKind.HUNG error; the next request starts a fresh engine
and reloads the model. Loads and failed replies go to Hearth's log (`engine_log.py`).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from app.engine import amx_guard, engine_log
from app.engine import protocol as p
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFInfo

HANG_SECONDS = 10.0  # silence from a busy engine that counts as "stopped responding"
CANCEL_GRACE_SECONDS = 1.0  # after Stop, how long a reply may take to end before we stop waiting
STOP_SILENCE_SECONDS = 0.75  # after Stop, silence this long (heartbeats come every 0.5 s) means stopped
CLOSE_SECONDS = 1.0  # how long close() lets the worker exit by itself before killing it
KILL_SECONDS = 0.5  # after SIGKILL, how long close() waits to reap the worker
CLOSED_MESSAGE = "the engine has been shut down"
_POLL_SECONDS = 0.1
HUNG_MESSAGE = "the engine stopped responding; it was restarted"


class EngineClient:
    def __init__(self, hang_timeout: float | None = None, cancel_grace: float = CANCEL_GRACE_SECONDS) -> None:
        self.hang_timeout = HANG_SECONDS if hang_timeout is None else hang_timeout
        self.cancel_grace = cancel_grace
        self._last_heard = time.monotonic()  # when the worker last sent anything
        self._closed = False
        self._closing: tuple[multiprocessing.process.BaseProcess, object] | None = None  # begin_close -> close
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._queues: dict[int, queue.Queue] = {}
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn = None
        self._reader: threading.Thread | None = None
        self._last_load: LoadOptions | None = None
        self._chats: dict[int, float | None] = {}  # chats under way or queued -> when Stop was sent to each
        self._needs_reload = False  # the worker died: the next request loads _last_load again
        self._reload_lock = threading.Lock()
        self.info: ModelInfo | None = None  # the model loaded (or, after a crash, to be reloaded)
        self.crashes = 0

    # ---------------------------------------------------------- process

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        from app.engine import worker

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        process = ctx.Process(target=worker.main, args=(child,), name="hearth-engine", daemon=True)
        process.start()
        child.close()
        amx_guard.forget_probe(process.pid)
        self._process, self._conn = process, parent
        self._reader = threading.Thread(target=self._read_events, args=(parent, process), daemon=True)
        self._reader.start()

    def _read_events(self, conn, process) -> None:
        while True:
            try:
                event = conn.recv()
            except (EOFError, OSError):
                break
            self._last_heard = time.monotonic()
            with self._lock:
                target = self._queues.get(event.id)
            if target is not None:
                target.put(event)
        process.join(timeout=2)
        amx_crash = amx_guard.record_exit(process.pid, process.exitcode)
        with self._lock:
            if self._process is not process:
                return  # a deliberate close: close() told the waiters
            waiting = self._forget_worker()
        code = process.exitcode
        how = f" (exit code {code})" if code not in (None, 0) else ""
        message = amx_guard.CRASH_MESSAGE if amx_crash else \
            f"the engine stopped unexpectedly{how}; the next message starts it again"
        for request_id, target in waiting:
            target.put(p.Error(request_id, ErrorKind.CRASHED, message))

    def _forget_worker(self) -> list[tuple[int, queue.Queue]]:
        """(With the lock held) the worker is gone: reload on the next request; who was waiting."""
        self._process, self._conn = None, None
        self._needs_reload = self._last_load is not None
        if not self._needs_reload:
            self.info = None
        self.crashes += 1
        return list(self._queues.items())

    def _declare_hung(self, process: multiprocessing.process.BaseProcess) -> None:
        """Kill a worker that stopped answering and fail every request waiting on it."""
        with self._lock:
            if self._process is not process:
                return
            waiting = self._forget_worker()  # the reader then sees a deliberate end and stays quiet
        process.kill()  # SIGKILL also ends a stopped (SIGSTOP) process
        for request_id, target in waiting:
            target.put(p.Error(request_id, ErrorKind.HUNG, HUNG_MESSAGE))

    def _next_event(self, request_id: int, events: queue.Queue, watch_cancel: bool = False,
                    stop: threading.Event | None = None):
        """The next event for a request; never blocks longer than the hang timeout.

        Returns None when watch_cancel is set and the reply did not end within
        cancel_grace seconds of Stop (cancel(), or `stop` being set).
        """
        while True:
            if stop is not None and stop.is_set():
                self.cancel(request_id)  # sent once; later calls only see it was
            try:
                return events.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            if self._closed:  # close() answers every waiting queue; this covers one it could not see
                return p.Error(request_id, ErrorKind.CRASHED, CLOSED_MESSAGE)
            now = time.monotonic()
            with self._lock:
                process = self._process
                cancelled_at = self._chats.get(request_id)
            if watch_cancel and cancelled_at is not None and now - cancelled_at >= self.cancel_grace:
                if process is not None and now - self._last_heard > STOP_SILENCE_SECONDS:
                    self._declare_hung(process)  # no heartbeat lately: not alive enough to stop by itself
                return None
            if now - self._last_heard < self.hang_timeout:
                continue
            if process is not None:
                self._declare_hung(process)  # puts the HUNG error on every waiting queue
            else:
                return p.Error(request_id, ErrorKind.HUNG, HUNG_MESSAGE)

    def _send(self, make_request: Callable[[int], object], chat: bool = False) -> tuple[int, queue.Queue]:
        with self._lock:
            if self._closed:
                raise EngineError(ErrorKind.CRASHED, CLOSED_MESSAGE)
            if not self.alive:
                self._start()
            self._last_heard = time.monotonic()
            request_id = next(self._ids)
            events: queue.Queue = queue.Queue()
            self._queues[request_id] = events
            if chat:
                self._chats[request_id] = None
            try:
                self._conn.send(make_request(request_id))
            except (OSError, AttributeError) as exc:
                self._queues.pop(request_id, None)
                self._chats.pop(request_id, None)
                raise EngineError(ErrorKind.CRASHED, f"the engine is not answering: {exc}") from exc
        return request_id, events

    def _done(self, request_id: int) -> None:
        with self._lock:
            self._queues.pop(request_id, None)
            self._chats.pop(request_id, None)

    def _ensure_model(self) -> None:
        """After a crash, bring the last model back before the next request (once, whoever asks)."""
        while not self._reload_lock.acquire(timeout=_POLL_SECONDS):
            if self._closed:  # another thread's reload holds the lock; quitting must not wait for it
                raise EngineError(ErrorKind.CRASHED, CLOSED_MESSAGE)
        try:
            if self._needs_reload and self._last_load is not None:
                self.load(self._last_load)
        finally:
            self._reload_lock.release()

    # ---------------------------------------------------------- requests

    def start(self) -> None:
        """Start the engine process now (it takes ~0.3 s), so that the first load need not wait.

        Does nothing once the client is closed (a start queued behind a quick quit)."""
        with self._lock:
            if not self.alive and not self._closed:
                self._start()

    @engine_log.logged_load
    def load(self, options: LoadOptions, on_progress: Callable[[float], None] | None = None,
             gguf: GGUFInfo | None = None) -> ModelInfo:
        """Load a model; `gguf` is its header if the caller has it (the engine then reads none)."""
        self._last_load = options
        if gguf is not None and Path(gguf.path) != Path(options.path):
            gguf = None
        if on_progress is not None and not self.alive:
            on_progress(0.0)  # starting the engine process: say so before the spawn's wait
        request_id, events = self._send(lambda i: p.Load(i, options, gguf))
        try:
            while True:
                event = self._next_event(request_id, events)
                if isinstance(event, p.Progress):
                    if on_progress is not None:
                        on_progress(event.fraction)
                elif isinstance(event, p.Loaded):
                    self.info = event.info
                    self._needs_reload = False
                    return event.info
                elif isinstance(event, p.Error):
                    self.info = None
                    self._needs_reload = False
                    if event.kind != ErrorKind.CRASHED:
                        self._last_load = None
                    raise EngineError(event.kind, event.message, event.detail)
        finally:
            self._done(request_id)

    def chat(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingParams | None = None,
        overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE,
        thinking: str = "default",
        stop: threading.Event | None = None,
    ) -> Iterator[p.Token | p.Reading | p.Done | p.Error]:
        """Stream a reply: Token events, then one Done or Error. Setting `stop` stops this reply only
        (also while it waits for another caller's to end)."""
        return self._stream(
            lambda i: p.Chat(i, tuple(messages), sampling or SamplingParams(), OverflowPolicy(overflow), thinking), stop
        )

    def complete(self, prompt: str, sampling: SamplingParams | None = None,
                 stop: threading.Event | None = None) -> Iterator[p.Token | p.Reading | p.Done | p.Error]:
        """Stream the continuation of a raw text prompt (no chat template): Token events, then Done or Error."""
        return self._stream(lambda i: p.Complete(i, prompt, sampling or SamplingParams()), stop)

    def _stream(self, make_request: Callable[[int], object],
                stop: threading.Event | None = None) -> Iterator[p.Token | p.Reading | p.Done | p.Error]:
        # sent again once if llama.cpp's AMX code crashed on it (amx_guard)
        return amx_guard.resend_after_crash(lambda: self._stream_once(make_request, stop))

    @engine_log.logged_stream
    def _stream_once(self, make_request: Callable[[int], object],
                     stop: threading.Event | None = None) -> Iterator[p.Token | p.Reading | p.Done | p.Error]:
        try:
            self._ensure_model()
        except EngineError as exc:
            yield p.Error(0, exc.kind, exc.message)
            return
        if stop is not None and stop.is_set():  # stopped before it was sent
            yield p.Done(0, p.Stats(stop_reason=p.StopReason.CANCELLED))
            return
        request_id, events = self._send(make_request, chat=True)
        text: list[str] = []
        n_tokens = 0
        try:
            while True:
                event = self._next_event(request_id, events, watch_cancel=True, stop=stop)
                if event is None:  # Stopped, and the engine did not end the reply in time
                    stats = p.Stats(completion_tokens=n_tokens, stop_reason=p.StopReason.CANCELLED)
                    yield p.Done(request_id, stats, "".join(text))
                    return
                if isinstance(event, p.Token):
                    text.append(event.text)
                    n_tokens = event.n_tokens
                elif not isinstance(event, (p.Done, p.Error, p.Reading)):
                    continue
                yield event
                if isinstance(event, (p.Done, p.Error)):
                    return
        finally:
            self._done(request_id)

    def count(self, messages: Sequence[ChatMessage], draft: str = "",
              overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, max_tokens: int = 0,
              timeout: float | None = 30.0, thinking: str = "default") -> p.CountResult:
        """Exact prompt tokens of the conversation plus an unsent draft, after the overflow policy."""
        self._ensure_model()
        request_id, events = self._send(
            lambda i: p.Count(i, tuple(messages), draft, OverflowPolicy(overflow), max_tokens, thinking)
        )
        event = self._answer(request_id, events, p.Counted, timeout, "answer the token count")
        return event.result

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = 30.0) -> p.Rendered:
        """The exact prompt text (special tokens included) and its token count."""
        self._ensure_model()
        request_id, events = self._send(lambda i: p.RenderPrompt(i, tuple(messages), thinking))
        return self._answer(request_id, events, p.Rendered, timeout, "render the prompt")

    def _answer(self, request_id: int, events: queue.Queue, wanted: type, timeout: float | None, what: str):
        """Wait for the one event that answers a request (heartbeats skipped); an Error becomes EngineError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                event = self._next_event(request_id, events)
                if isinstance(event, (wanted, p.Error)):
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise EngineError(ErrorKind.INTERNAL, f"the engine did not {what} in time")
        finally:
            self._done(request_id)
        if isinstance(event, p.Error):
            raise EngineError(event.kind, event.message)
        return event

    def cancel(self, request_id: int = 0) -> None:
        """Stop one reply by its request id (within one token; a queued one never starts),
        or with no id every reply under way or queued (quitting)."""
        with self._lock:
            if not self.alive:
                return
            targets = [request_id] if request_id else list(self._chats)
            for target in targets:
                if self._chats.get(target, 0) is not None:
                    continue  # over (0), or already told (a time)
                self._chats[target] = time.monotonic()
                with contextlib.suppress(OSError):
                    self._conn.send(p.Cancel(target))

    def unload(self) -> None:
        self._last_load = None
        if not self.alive:
            self.info = None
            return
        request_id, events = self._send(lambda i: p.Unload(i))
        deadline = time.monotonic() + 30
        try:
            while not isinstance(self._next_event(request_id, events), (p.Unloaded, p.Error)):
                if time.monotonic() > deadline:
                    break
        finally:
            self._done(request_id)
            self.info = None

    def begin_close(self) -> None:
        """Start closing without waiting: every waiting caller gets an "engine closed" error at once,
        no new request is taken, and the worker is told to stop. close() finishes the job."""
        with self._lock:
            if self._closed:
                return
            process, conn = self._process, self._conn
            self._process, self._conn, self.info = None, None, None
            self._closed = True
            if process is not None:
                self._closing = (process, conn)
            waiting = list(self._queues.items())
        for request_id, target in waiting:
            target.put(p.Error(request_id, ErrorKind.CRASHED, CLOSED_MESSAGE))
        if process is None:
            return
        try:
            conn.send(p.Cancel(0))  # a reply under way stops at the next token, so the worker exits cleanly
            conn.send(p.Shutdown())
        except OSError:
            pass

    def close(self, seconds: float = CLOSE_SECONDS) -> None:
        """Stop the worker: it gets `seconds` to exit by itself (a reply stops at the next token), then
        it is killed (a load inside llama.cpp cannot be interrupted). Every waiting caller gets an error."""
        self.begin_close()
        with self._lock:
            closing, self._closing = self._closing, None
        if closing is None:
            return
        process, conn = closing
        process.join(timeout=max(0.0, seconds))
        if process.is_alive():
            process.kill()
            process.join(timeout=KILL_SECONDS)
        conn.close()

    def kill(self) -> None:
        """Kill the worker abruptly (used to test crash recovery)."""
        with self._lock:
            if self._process is not None:
                self._process.kill()

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
