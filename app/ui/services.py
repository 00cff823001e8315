"""Qt adapters: run core services off the GUI thread and report by signals.

- EngineService: one QThread for loading and generation (they are serial in the
  engine anyway); cancel is sent straight from the GUI thread.
  Counting runs on a second worker with its own QThread (`hearth-count`), so
  counting the draft never waits for a reply. Both workers call the EngineRouter,
  which sends each request to the local engine process or a remote server.
Short background jobs (scans, file work) go through app.ui.tasks.BackgroundTasks.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.engine import Done, EngineClient, EngineError, Error, LoadOptions, OverflowPolicy, SamplingParams, Token
from app.engine.protocol import Chat, Count, Load, Reading
from app.engine.router import EngineRouter
from app.library.gguf_info import GGUFInfo

SHUTDOWN_RESERVE_SECONDS = 0.3  # of a shutdown's time, what is kept for killing the engine and its threads' exit


def resident_bytes(pid: int | None) -> int:
    """The engine process's resident memory (its model, KV cache and runtime); 0 when unknown."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss) if pid else 0
    except Exception:  # the process is gone, or psutil cannot see it
        return 0


class _EngineWorker(QObject):
    load_progress = Signal(int, float)  # job id, fraction
    loaded = Signal(int, object)  # job id, ModelInfo
    load_failed = Signal(int, str)  # job id, message
    token = Signal(int, str, int)  # job id, text, completion tokens so far
    reasoning = Signal(int, str, int)  # job id, thinking text, completion tokens so far (before `token`)
    reading = Signal(int, int, int)  # job id, prompt tokens read, of: a prompt that takes over a second
    finished = Signal(int, object)  # job id, Done
    failed = Signal(int, object, str)  # job id, ErrorKind, message
    reloaded = Signal(object)  # ModelInfo: the engine crashed and loaded the model again on its own
    counted = Signal(int, object)  # job id, CountResult
    count_failed = Signal(int, str)
    ejected = Signal(object, int)  # ModelInfo that was loaded, bytes of memory it freed (0 when unknown)

    def __init__(self, client: EngineClient) -> None:
        super().__init__()
        self.client = client

    @Slot()
    def start_engine(self) -> None:
        try:
            self.client.start()
        except Exception:  # the first load starts it again and reports what went wrong
            pass

    @Slot(object)
    def load(self, job: Load) -> None:
        try:
            info = self.client.load(job.options, lambda fraction: self.load_progress.emit(job.id, fraction), job.gguf)
        except EngineError as exc:
            self.load_failed.emit(job.id, exc.message)
        except Exception as exc:  # every load ends with one signal, which carries its job id
            self.load_failed.emit(job.id, f"{type(exc).__name__}: {exc}")
        else:
            self.loaded.emit(job.id, info)

    @Slot(object, object)
    def chat(self, job: Chat, stop: threading.Event) -> None:
        # The job is the protocol's own request; its id is the GUI's job id, not the engine's.
        info = self.client.info
        for event in self.client.chat(job.messages, job.sampling, job.overflow, job.thinking, stop=stop):
            if isinstance(event, Token):
                if event.reasoning:
                    self.reasoning.emit(job.id, event.reasoning, event.n_tokens)
                self.token.emit(job.id, event.text, event.n_tokens)
            elif isinstance(event, Reading):
                self.reading.emit(job.id, event.done, event.total)
            elif isinstance(event, Done):
                self.finished.emit(job.id, event)
            elif isinstance(event, Error):
                self.failed.emit(job.id, event.kind, event.message)
        if self.client.info is not info and self.client.info is not None:  # a reload (amx_guard) may add a note
            self.reloaded.emit(self.client.info)

    @Slot()
    def eject(self) -> None:
        info = self.client.info
        if info is None:
            return
        before = resident_bytes(self.client.local.pid)
        try:
            self.client.unload()
        finally:  # whatever happened, the engine is told to hold nothing and the page says so
            self.ejected.emit(info, max(before - resident_bytes(self.client.local.pid), 0))

    @Slot(object)
    def count(self, job: Count) -> None:
        try:
            result = self.client.count(job.messages, job.draft, job.overflow, job.max_tokens, thinking=job.thinking)
        except EngineError as exc:
            self.count_failed.emit(job.id, exc.message)
        else:
            self.counted.emit(job.id, result)


class EngineService(QObject):
    """The GUI's view of the engine. Every signal arrives on the GUI thread.

    Loading and generation run on one thread (they are serial in the engine anyway),
    counting on another, so the context meter never waits for a reply.
    """

    load_progress = Signal(int, float)  # job id (as load() returned it), fraction
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

    _do_start = Signal()
    _do_load = Signal(object)  # Load
    _do_chat = Signal(object, object)  # Chat, its stop event
    _do_count = Signal(object)
    _do_eject = Signal()

    def __init__(self, client: EngineClient | None = None, parent: QObject | None = None,
                 api_key_for=lambda _url: None) -> None:
        super().__init__(parent)
        self.client = client or EngineClient()  # the local engine process
        self.router = EngineRouter(self.client, api_key_for)  # requests go to the local engine or a server
        self._threads: list[QThread] = []
        self._runner = self._spawn("hearth-engine")
        self._counter = self._spawn("hearth-count")
        # the options of each load under way, by job id; the one that loaded is kept (before `loaded` is heard)
        self._loads: dict[int, LoadOptions] = {}
        self.loaded_options: LoadOptions | None = None
        self._runner.loaded.connect(lambda job_id, _info: self._load_ended(job_id, True))
        self._runner.load_failed.connect(lambda job_id, _message: self._load_ended(job_id, False))
        self._runner.ejected.connect(lambda _info, _freed: setattr(self, "loaded_options", None))
        for name in ("load_progress", "loaded", "load_failed", "token", "reasoning", "reading", "finished", "failed",
                     "reloaded", "ejected"):
            getattr(self._runner, name).connect(getattr(self, name))
        self._counter.counted.connect(self.counted)
        self._counter.count_failed.connect(self.count_failed)
        self._do_start.connect(self._runner.start_engine)
        self._do_load.connect(self._runner.load)
        self._headers: dict[str, GGUFInfo] = {}
        self._do_chat.connect(self._runner.chat)
        self._do_count.connect(self._counter.count)
        self._do_eject.connect(self._runner.eject)
        self._next_job = 0
        self._stop = threading.Event()  # the GUI's reply under way: Stop stops it, not the API server's

    def _spawn(self, name: str) -> _EngineWorker:
        thread = QThread(self)
        thread.setObjectName(name)
        worker = _EngineWorker(self.router)
        worker.moveToThread(thread)
        thread.finished.connect(worker.deleteLater)
        thread.start()
        self._threads.append(thread)
        return worker

    def next_job_id(self) -> int:
        self._next_job += 1
        return self._next_job

    def start_engine(self) -> None:
        """Start the engine process now, off the GUI thread, so the first load does not wait for it."""
        self._do_start.emit()

    def remember_headers(self, models) -> None:
        """Keep the library's headers (list[LocalModel]) so a load sends the one already read."""
        self._headers = {str(m.path): m.info for m in models if m.info is not None}

    def load(self, options: LoadOptions) -> int:
        """Load a model (after the job under way); its job id, which `load_progress`, then `loaded` or
        `load_failed`, carry."""
        job = Load(self.next_job_id(), options, self._headers.get(options.path))
        self._loads[job.id] = options
        self._do_load.emit(job)
        return job.id

    def _load_ended(self, job_id: int, ok: bool) -> None:
        options = self._loads.pop(job_id, None)
        self.loaded_options = options if ok else None

    def eject(self) -> None:
        """Free the loaded model's memory (after the job under way); `ejected` says how much was freed."""
        self._do_eject.emit()

    def chat(self, messages, sampling: SamplingParams, overflow: OverflowPolicy, thinking: str = "default") -> int:
        job = Chat(self.next_job_id(), tuple(messages), sampling, overflow, thinking)
        self._stop = threading.Event()
        self._do_chat.emit(job, self._stop)
        return job.id

    def count(self, messages, draft: str, overflow: OverflowPolicy, max_tokens: int, thinking: str = "default") -> int:
        job = Count(self.next_job_id(), tuple(messages), draft, overflow, max_tokens, thinking)
        self._do_count.emit(job)
        return job.id

    def cancel(self) -> None:
        """Stop the GUI's reply (only it: a reply the API server is writing on the same engine goes on)."""
        self._stop.set()

    @property
    def info(self):
        """The model in use (local or on a server), or None."""
        return self.router.info

    def stop(self) -> None:
        """Quitting begins, without waiting: the reply stops, every caller waiting on the engine gets an
        "engine closed" error at once (so both threads come free), and the engine is told to exit."""
        self.router.cancel()
        self.client.begin_close()
        for thread in self._threads:
            thread.quit()  # each leaves its event loop once the job it runs has returned

    def shutdown(self, seconds: float = 1.5) -> bool:
        """stop(), then end the engine process and both threads within about `seconds` in all.

        The engine gets most of the time to exit by itself, then is killed. True if both threads ended.
        """
        deadline = time.monotonic() + seconds
        self.stop()
        self.client.close(max(0.0, deadline - time.monotonic() - SHUTDOWN_RESERVE_SECONDS))
        self.router.close_remote()
        ended = True
        for thread in self._threads:
            ended = thread.wait(max(0, int((deadline - time.monotonic()) * 1000))) and ended
        return ended
