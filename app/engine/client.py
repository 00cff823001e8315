"""The app's handle on the engine process.

Starts the worker (spawn), sends requests, routes events back to the caller
that asked, notices when the worker dies, and starts a fresh one (reloading
the last model) on the next request. Safe to use from several threads: one
chat at a time, counts and cancel from anywhere.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator, Sequence

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams

_DEAD = object()


class EngineClient:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._queues: dict[int, queue.Queue] = {}
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn = None
        self._reader: threading.Thread | None = None
        self._last_load: LoadOptions | None = None
        self._active_chat = 0
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
        self._process, self._conn = process, parent
        self._reader = threading.Thread(target=self._read_events, args=(parent, process), daemon=True)
        self._reader.start()

    def _read_events(self, conn, process) -> None:
        while True:
            try:
                event = conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                target = self._queues.get(event.id)
            if target is not None:
                target.put(event)
        process.join(timeout=2)
        with self._lock:
            if self._process is not process:
                return  # a deliberate close; nobody is waiting
            self._process, self._conn = None, None
            self._needs_reload = self._last_load is not None
            if not self._needs_reload:
                self.info = None
            waiting = list(self._queues.items())
            self.crashes += 1
        code = process.exitcode
        how = f" (exit code {code})" if code not in (None, 0) else ""
        for request_id, target in waiting:
            target.put(p.Error(request_id, ErrorKind.CRASHED,
                               f"the engine stopped unexpectedly{how}; the next message starts it again"))

    def _send(self, make_request: Callable[[int], object]) -> tuple[int, queue.Queue]:
        with self._lock:
            if not self.alive:
                self._start()
            request_id = next(self._ids)
            events: queue.Queue = queue.Queue()
            self._queues[request_id] = events
            try:
                self._conn.send(make_request(request_id))
            except (OSError, AttributeError) as exc:
                self._queues.pop(request_id, None)
                raise EngineError(ErrorKind.CRASHED, f"the engine is not answering: {exc}") from exc
        return request_id, events

    def _done(self, request_id: int) -> None:
        with self._lock:
            self._queues.pop(request_id, None)

    def _ensure_model(self) -> None:
        """After a crash, bring the last model back before the next request (once, whoever asks)."""
        with self._reload_lock:
            if self._needs_reload and self._last_load is not None:
                self.load(self._last_load)

    # ---------------------------------------------------------- requests

    def load(self, options: LoadOptions, on_progress: Callable[[float], None] | None = None) -> ModelInfo:
        self._last_load = options
        request_id, events = self._send(lambda i: p.Load(i, options))
        try:
            while True:
                event = events.get()
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
                    raise EngineError(event.kind, event.message)
        finally:
            self._done(request_id)

    def chat(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingParams | None = None,
        overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE,
        thinking: str = "default",
    ) -> Iterator[p.Token | p.Done | p.Error]:
        """Stream a reply: Token events, then one Done or Error."""
        try:
            self._ensure_model()
        except EngineError as exc:
            yield p.Error(0, exc.kind, exc.message)
            return
        request_id, events = self._send(
            lambda i: p.Chat(i, tuple(messages), sampling or SamplingParams(), OverflowPolicy(overflow), thinking)
        )
        self._active_chat = request_id
        try:
            while True:
                event = events.get()
                yield event
                if isinstance(event, (p.Done, p.Error)):
                    return
        finally:
            if self._active_chat == request_id:
                self._active_chat = 0
            self._done(request_id)

    def count(
        self,
        messages: Sequence[ChatMessage],
        draft: str = "",
        overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE,
        max_tokens: int = 0,
        timeout: float | None = 30.0,
        thinking: str = "default",
    ) -> p.CountResult:
        """Exact prompt tokens of the conversation plus an unsent draft, after the overflow policy."""
        self._ensure_model()
        request_id, events = self._send(
            lambda i: p.Count(i, tuple(messages), draft, OverflowPolicy(overflow), max_tokens, thinking)
        )
        try:
            event = events.get(timeout=timeout)
        except queue.Empty:
            raise EngineError(ErrorKind.INTERNAL, "the engine did not answer the token count in time") from None
        finally:
            self._done(request_id)
        if isinstance(event, p.Error):
            raise EngineError(event.kind, event.message)
        return event.result

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = 30.0) -> p.Rendered:
        """The exact prompt text (special tokens included) and its token count."""
        self._ensure_model()
        request_id, events = self._send(lambda i: p.RenderPrompt(i, tuple(messages), thinking))
        try:
            event = events.get(timeout=timeout)
        except queue.Empty:
            raise EngineError(ErrorKind.INTERNAL, "the engine did not render the prompt in time") from None
        finally:
            self._done(request_id)
        if isinstance(event, p.Error):
            raise EngineError(event.kind, event.message)
        return event

    def cancel(self) -> None:
        """Stop the reply being generated (within one token)."""
        with self._lock:
            if self.alive and self._active_chat:
                try:
                    self._conn.send(p.Cancel(self._active_chat))
                except OSError:
                    pass

    def unload(self) -> None:
        self._last_load = None
        if not self.alive:
            self.info = None
            return
        request_id, events = self._send(lambda i: p.Unload(i))
        try:
            events.get(timeout=30)
        except queue.Empty:
            pass
        finally:
            self._done(request_id)
            self.info = None

    def close(self) -> None:
        with self._lock:
            process, conn = self._process, self._conn
            self._process, self._conn, self.info = None, None, None
        if process is None:
            return
        try:
            conn.send(p.Shutdown())
        except OSError:
            pass
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
        conn.close()

    def kill(self) -> None:
        """Kill the worker abruptly (used to test crash recovery)."""
        with self._lock:
            process = self._process
        if process is not None:
            process.kill()

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
