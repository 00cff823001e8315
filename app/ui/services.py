"""Qt adapters: run core services off the GUI thread and report by signals.

- EngineService: the GUI's engine. Loads, replies and counts are engine jobs (app/engine/jobs.py):
  each gets its id at once, and every signal about it carries that id. The engine hands each event
  to a callback on a thread of its own (the local engine's pipe reader, a remote request's thread);
  the callback only emits `_event`, which Qt queues to this object's thread, the GUI thread. No
  thread here waits for events. Starting a job runs on one small thread (`hearth-engine-start`),
  because spawning the engine process or writing a long conversation to it can take a tenth of a
  second; it never waits for an answer, so a count never waits behind a reply.
Short background jobs (scans, file work) go through app.ui.tasks.BackgroundTasks.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from app.engine import EngineClient, LoadOptions, ModelInfo, OverflowPolicy, SamplingParams, batch_params
from app.engine import protocol as p
from app.engine.jobs import new_job_id
from app.engine.protocol import AUTO_LAYERS, ChatMessage, ErrorKind
from app.engine.router import EngineRouter
from app.library.gguf_info import GGUFInfo

if TYPE_CHECKING:
    from app.engine.server_runtime import RuntimeInfo
    from app.library.library import LocalModel

log = logging.getLogger(__name__)
SHUTDOWN_RESERVE_SECONDS = 0.3  # of a shutdown's time, what is kept for killing the engine and its threads' exit


def free_memory(with_gpu: bool) -> tuple[int, int]:
    from app.hardware import free_ram_bytes, free_vram_bytes

    return free_ram_bytes(), free_vram_bytes() if with_gpu else 0


def resident_bytes(pid: int | None) -> int:
    """The engine process's resident memory (its model, KV cache and runtime); 0 when unknown."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss) if pid else 0
    except Exception:  # noqa: BLE001 (the process is gone, or psutil cannot see it)
        return 0


@dataclass(frozen=True)
class _Ended:
    """A job's final event, with the model in use when it ended and how many times the engine had
    loaded it again after a crash by then (was a reply's model reloaded meanwhile?)."""

    event: p.Done | p.Error
    info: ModelInfo | None
    reloads: int


@dataclass(frozen=True)
class _Ejected:
    info: ModelInfo
    freed_bytes: int


class _Starter:
    """One thread that starts jobs, in the order asked. Starting never waits for the engine's answer."""

    def __init__(self) -> None:
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="hearth-engine-start", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], None]) -> None:
        self._work.put(work)

    def _run(self) -> None:
        while (work := self._work.get()) is not None:
            work()

    def stop(self) -> None:
        self._work.put(None)

    def join(self, seconds: float) -> bool:
        self._thread.join(max(seconds, 0.0))
        return not self._thread.is_alive()


class EngineService(QObject):
    """The GUI's view of the engine. Every signal arrives on the GUI thread; each names its job."""

    load_progress = Signal(int, float)  # job id, fraction
    loaded = Signal(int, object)  # job id, ModelInfo
    load_failed = Signal(int, str)  # job id, message
    token = Signal(int, str, int)  # job id, text, completion tokens so far
    reasoning = Signal(int, str, int)  # job id, thinking text, completion tokens so far (before `token`)
    reading = Signal(int, int, int)  # job id, prompt tokens read, of: a prompt that takes over a second
    finished = Signal(int, object)  # job id, Done
    failed = Signal(int, object, str)  # job id, ErrorKind, message
    reloaded = Signal(object)  # ModelInfo: after a crash the engine loaded the same model again by itself
    counted = Signal(int, object)  # job id, CountResult
    count_failed = Signal(int, str)  # job id, message
    ejected = Signal(object, int)  # ModelInfo that was loaded, bytes of memory it freed (0 when unknown)
    sequences_changed = Signal(int)  # the local model's sequences from its next load on (2: shared with the API)

    _event = Signal(object)  # from the engine's threads: an event, _Ended or _Ejected (queued to the GUI thread)

    def __init__(self, client: EngineClient | None = None, parent: QObject | None = None,
                 api_key_for: Callable[[str], str | None] = lambda _url: None,
                 runtime_for: Callable[[str], RuntimeInfo | None] | None = None) -> None:
        super().__init__(parent)
        self.client = client or EngineClient()  # the local engine process
        # requests go to the local engine, a server, or a llama-server started for a local model (runtime_for)
        self.router = EngineRouter(self.client, api_key_for, runtime_for=runtime_for)
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._starter = _Starter()
        self._headers: dict[str, GGUFInfo] = {}
        self._loads: dict[int, LoadOptions] = {}  # loads under way, by job id
        self._kinds: dict[int, str] = {}  # jobs under way: "load", "chat" or "count"
        self._chat_reloads: dict[int, int] = {}  # each reply's client.reloads when it was asked for
        self._reply = 0  # the GUI's reply under way: Stop stops it, not the API server's
        self.loaded_options: LoadOptions | None = None  # how the model in use was loaded
        # (RAM, VRAM when asked) free now: what a second sequence for the API server must fit (share_with_api)
        self.free_memory: Callable[[bool], tuple[int, int]] = free_memory
        self.api_sharing = False  # the app's API server runs: loads get a second sequence for it (share_with_api)
        self.sharing_note = ""  # why they do not, when memory is short

    # ---------------------------------------------------------- starting jobs

    def _start(self, job_id: int, kind: str, start: Callable[[Callable[[p.Event], None]], object]) -> int:
        """Start a job on the starter thread; its events come back as signals. Returns its id at once."""
        self._kinds[job_id] = kind

        def run() -> None:
            try:
                start(self._post)
            except Exception as exc:  # every job ends with one signal, whatever went wrong
                log.exception("starting an engine job failed")
                self._post(p.Error(job_id, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}"))

        self._starter.submit(run)
        return job_id

    def _post(self, event: p.Event) -> None:
        """(On an engine thread) hand one event to the GUI thread; a final one with the model in use."""
        if isinstance(event, (p.Done, p.Error)):
            self._event.emit(_Ended(event, self.router.info, self.client.reloads))
        else:
            self._event.emit(event)

    def start_engine(self) -> None:
        """Start the engine process now, off the GUI thread, so the first load does not wait for it."""
        def start() -> None:
            try:
                self.router.start()
            except Exception:  # the first load starts it again and reports what went wrong
                log.info("starting the engine ahead of time failed", exc_info=True)

        self._starter.submit(start)

    def remember_headers(self, models: Iterable[LocalModel]) -> None:
        """Keep the library's headers so a load sends the one already read."""
        self._headers = {str(m.path): m.info for m in models if m.info is not None}

    def load(self, options: LoadOptions) -> int:
        """Load a model: load_progress, then loaded or load_failed, all with the returned job id."""
        job_id = new_job_id()
        self._loads[job_id] = options
        if self.api_sharing and options is not self.loaded_options:  # another model, or other settings
            self._fit_sequences(options, None)
        gguf = self._headers.get(options.path)
        return self._start(job_id, "load", lambda post: self.router.start_load(options, post, gguf, job_id))

    def chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
             thinking: str = "default") -> int:
        """Write a reply: token, reasoning and reading, then finished or failed, with the returned job id."""
        job_id = self._reply = new_job_id()
        self._chat_reloads[job_id] = self.client.reloads
        history = tuple(messages)
        return self._start(job_id, "chat", lambda post: self.router.start_chat(history, sampling, overflow,
                                                                               thinking, post, job_id))

    def count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
              thinking: str = "default", tools: str = "") -> int:
        """Count the prompt's tokens (never behind a reply): counted or count_failed, with the returned job id.
        `tools`: the tools a reply will offer (a JSON array): their schemas count too."""
        job_id = new_job_id()
        history = tuple(messages)
        return self._start(job_id, "count", lambda post: self.router.start_count(
            history, draft, overflow, max_tokens, thinking, post, job_id=job_id, tools=tools))

    def cancel(self, job_id: int = 0) -> None:
        """Stop a reply by its job id; 0: the GUI's reply under way (only it: a reply the API server is
        writing on the same engine goes on)."""
        target = job_id or self._reply
        if target:
            self._starter.submit(lambda: self.router.cancel(target))

    def share_with_api(self, on: bool) -> str:
        """The app's API server started (True) or stopped. While it runs, a local model is loaded with two
        sequences, each with the whole context (batch_params.shared_options), so a chat reply joins an API
        request's batch instead of waiting behind it. The model in use is loaded again to match (when the
        server stops too, which gives the second sequence's memory back).

        Returns `sharing_note`: "" or why the model is loaded with one sequence although the server runs (no
        memory for a second KV cache: the API's requests then wait behind chat replies)."""
        self.api_sharing = on
        info, options = self.info, self.loaded_options
        if info is not None and options is not None and not self.router.is_remote:
            self._fit_sequences(options, info)
            if (info.n_parallel > 1) != (self.router.sequences > 1):
                self.load(options)
        else:
            self._fit_sequences(None, None)
        return self.sharing_note

    def _fit_sequences(self, options: LoadOptions | None, info: ModelInfo | None) -> None:
        """Two sequences for the next local load while the API server runs and memory allows, else one."""
        why = ""
        if self.api_sharing and options is not None and (header := self._headers.get(options.path)) is not None:
            n_ctx = info.n_ctx if info is not None else options.n_ctx
            layers = info.n_gpu_layers if info is not None else options.n_gpu_layers
            if layers == AUTO_LAYERS:  # the automatic choice: planned on the CPU, where a laptop is shortest
                layers = 0
            free_ram, free_vram = self.free_memory(layers != 0)
            why = batch_params.sharing_shortfall(header, n_ctx, options, layers, free_ram, free_vram)
        self.sharing_note = why
        sequences = 2 if self.api_sharing and not why else 1
        if sequences != self.router.sequences:
            self.router.sequences = sequences
            self.sequences_changed.emit(sequences)

    def eject(self) -> None:
        """Free the loaded model's memory (after the job under way); `ejected` says how much was freed."""
        info = self.router.info
        if info is None:
            return

        def start() -> None:
            before = resident_bytes(self.client.pid)

            def on_event(event: p.Event) -> None:
                if isinstance(event, (p.Unloaded, p.Error)):  # whatever happened, the page says it holds nothing
                    self._event.emit(_Ejected(info, max(before - resident_bytes(self.client.pid), 0)))

            try:
                self.router.start_unload(on_event)
            except Exception:
                log.exception("freeing the model failed")
                self._event.emit(_Ejected(info, 0))

        self._starter.submit(start)

    # ---------------------------------------------------------- events, on the GUI thread

    def _on_event(self, item: object) -> None:
        if isinstance(item, _Ejected):
            self.loaded_options = None
            self.ejected.emit(item.info, item.freed_bytes)
            return
        if isinstance(item, _Ended):
            self._ended(item)
            return
        event = item
        if isinstance(event, p.Progress):
            self.load_progress.emit(event.id, event.fraction)
        elif isinstance(event, p.Token):
            if event.reasoning:
                self.reasoning.emit(event.id, event.reasoning, event.n_tokens)
            self.token.emit(event.id, event.text, event.n_tokens)
        elif isinstance(event, p.Reading):
            self.reading.emit(event.id, event.done, event.total)
        elif isinstance(event, p.Loaded):
            self._kinds.pop(event.id, None)
            self.loaded_options = self._loads.pop(event.id, None)
            self.loaded.emit(event.id, event.info)
        elif isinstance(event, p.Counted):
            self._kinds.pop(event.id, None)
            self.counted.emit(event.id, event.result)

    def _ended(self, ended: _Ended) -> None:
        event = ended.event
        kind = self._kinds.pop(event.id, "")
        if kind == "load" and isinstance(event, p.Error):
            self._loads.pop(event.id, None)
            self.loaded_options = None
            self.load_failed.emit(event.id, event.message)
        elif kind == "count" and isinstance(event, p.Error):
            self.count_failed.emit(event.id, event.message)
        elif kind == "chat":
            if event.id == self._reply:
                self._reply = 0
            if isinstance(event, p.Done):
                self.finished.emit(event.id, event)
            else:
                self.failed.emit(event.id, event.kind, event.message)
            before = self._chat_reloads.pop(event.id, ended.reloads)
            if ended.reloads != before and ended.info is not None:  # a reload (amx_guard) may add a note
                self.reloaded.emit(ended.info)

    @property
    def info(self) -> ModelInfo | None:
        """The model in use (local or on a server), or None."""
        return self.router.info

    # ---------------------------------------------------------- quitting

    def stop(self) -> None:
        """Quitting begins, without waiting: replies stop, every job under way ends at once with an
        "engine closed" error, and the engine is told to exit."""
        self.router.cancel()
        self.client.begin_close()
        self._starter.stop()  # after the starts still queued: they end at once, "engine closed"

    def shutdown(self, seconds: float = 1.5) -> bool:
        """stop(), then end the engine process and the starter thread within about `seconds` in all.

        The engine gets most of the time to exit by itself, then is killed. True if the thread ended."""
        deadline = time.monotonic() + seconds
        self.stop()
        self.client.close(max(0.0, deadline - time.monotonic() - SHUTDOWN_RESERVE_SECONDS))
        self.router.close_remote()
        return self._starter.join(deadline - time.monotonic())
