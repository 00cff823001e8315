"""The app's handle on the engine process.

Starts the worker (spawn), sends each job's request, and hands the events that answer it to the
job's callback (jobs.py) on the one thread that reads the pipe; notices when the worker dies and
starts a fresh one (reloading the last model first) on the next request. Safe to use from several
threads: replies from several callers (the GUI, the API server) take turns in the engine in the
order sent, each stopped by its own job id, never another's. Counts and cancel from anywhere.

The pipe reader also keeps the time (local_watch.py): a busy worker sends a Heartbeat at least every
second, and after `hang_timeout` seconds without any event the engine is declared hung, killed, and
every job gets an ErrorKind.HUNG error; the next request starts a fresh engine and reloads the model.
Loads and failed replies go to Hearth's log (`engine_log.py`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Self

from app.engine import amx_guard, jobs
from app.engine import protocol as p
from app.engine.engine_api import COUNT_TIMEOUT, BlockingCalls
from app.engine.jobs import EventSink, JobEvents, ReplyEvent
from app.engine.local_watch import CLOSED_MESSAGE, HUNG_MESSAGE, Job, JobTable
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFInfo

HANG_SECONDS = 10.0  # silence from a busy engine that counts as "stopped responding"
CANCEL_GRACE_SECONDS = 1.0  # after Stop, how long a reply may take to end before we stop waiting
CLOSE_SECONDS = 1.0  # how long close() lets the worker exit by itself before killing it
KILL_SECONDS = 0.5  # after SIGKILL, how long close() waits to reap the worker
UNLOAD_SECONDS = 30.0
NEXT_TOKENS_TIMEOUT = 120.0  # it waits for the replies before it, then evaluates (a long prompt: slow on a CPU)
__all__ = ["CLOSED_MESSAGE", "HUNG_MESSAGE", "EngineClient"]


class EngineClient(JobTable, BlockingCalls):
    def __init__(self, hang_timeout: float | None = None, cancel_grace: float = CANCEL_GRACE_SECONDS) -> None:
        super().__init__(HANG_SECONDS if hang_timeout is None else hang_timeout, cancel_grace)
        self._closing: BaseProcess | None = None  # begin_close -> close (the pipe stays its reader's)
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._last_load: LoadOptions | None = None
        self._needs_reload = False  # the worker died: the next request loads _last_load again
        self._held: list[Job] = []  # requests waiting for that reload
        self.info: ModelInfo | None = None  # the model loaded (or, after a crash, to be reloaded)
        self.crashes = 0
        self.reloads = 0  # times the last model was loaded again after a crash

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
        threading.Thread(target=self._read_events, args=(parent, process), name="hearth-engine-reader",
                         daemon=True).start()

    def _read_events(self, conn: Connection, process: BaseProcess) -> None:
        """The pipe's one reader: hands each event to its job, and keeps the time between events."""
        while True:
            try:
                event = conn.recv() if conn.poll(self.POLL_SECONDS) else None
            except (EOFError, OSError):
                break
            if event is not None:
                self._last_heard = time.monotonic()
                self._dispatch(event)
            self._watch_if_due(process)
        with self._lock:  # only this thread closes its pipe: a close from another could pull it from under recv
            conn.close()
        process.join(timeout=2)
        amx_crash = amx_guard.record_exit(process.pid, process.exitcode)
        with self._lock:
            if self._process is not process:
                return  # a deliberate end (close, or declared hung): the jobs were told
            waiting = self._forget_worker()
        code = process.exitcode
        how = f" (exit code {code})" if code not in (None, 0) else ""
        message = amx_guard.CRASH_MESSAGE if amx_crash else \
            f"the engine stopped unexpectedly{how}; the next message starts it again"
        for job in waiting:
            if amx_crash and job.kind == "chat" and not job.n_tokens and not job.resent and self._resend(job):
                continue  # sent again once, on the model reloaded without AMX (amx_guard)
            self._finish(job, p.Error(job.id, ErrorKind.CRASHED, message, job.text))

    def _forget_worker(self) -> list[Job]:
        """(With the lock held) the worker is gone: reload on the next request; the jobs that were waiting."""
        self._process, self._conn = None, None
        self._needs_reload = self._last_load is not None
        if not self._needs_reload:
            self.info = None
        self.crashes += 1
        self._held = []
        return list(self._jobs.values())

    def _declare_hung(self, process: BaseProcess) -> None:
        """Kill a worker that stopped answering and fail every job waiting on it."""
        with self._lock:
            if self._process is not process:
                return
            waiting = self._forget_worker()  # the reader then sees a deliberate end and stays quiet
        process.kill()  # SIGKILL also ends a stopped (SIGSTOP) process
        for job in waiting:
            self._finish(job, p.Error(job.id, ErrorKind.HUNG, HUNG_MESSAGE, job.text))

    # ---------------------------------------------------------- sending

    def _submit(self, job: Job) -> int:
        """Register a job and send its request (after a reload the worker's crash calls for)."""
        with self._lock:
            self._jobs[job.id] = job
            if self._closed:
                refused: p.Error | None = p.Error(job.id, ErrorKind.CRASHED, CLOSED_MESSAGE)
            elif job.kind != "load" and self._needs_reload and self._last_load is not None:
                self._hold(job)
                return job.id
            else:
                refused = self._send_now(job)
        if refused is not None:
            self._finish(job, refused)
        return job.id

    def _send_now(self, job: Job) -> p.Error | None:
        """(With the lock held) send the job's request, starting the worker if need be; the error if it failed."""
        if not self.alive:
            self._start()
        self._last_heard = job.sent_at = time.monotonic()
        try:
            assert self._conn is not None
            self._conn.send(job.request(job.id))
        except (OSError, AssertionError) as exc:
            return p.Error(job.id, ErrorKind.CRASHED, f"the engine is not answering: {exc}")
        return None

    def _hold(self, job: Job) -> None:
        """(With the lock held) keep `job` until the last model is loaded again; start that reload once."""
        self._held.append(job)
        if len(self._held) > 1:
            return  # the reload is under way
        options = self._last_load
        assert options is not None
        reload = Job(jobs.new_job_id(), "load", lambda i: p.Load(i, options), JobEvents(self._reloaded),
                     options=options)
        self._jobs[reload.id] = reload
        if (refused := self._send_now(reload)) is not None:
            self._finish(reload, refused)  # its handler fails the held requests

    def _reloaded(self, event: p.Event) -> None:
        """The reload's events: once it ends, the held requests are sent, or fail with its error."""
        if not jobs.is_final(event):
            return
        with self._lock:
            if isinstance(event, p.Loaded):
                self.reloads += 1
            held, self._held = self._held, []
            failures = []
            for job in held:
                if self._jobs.get(job.id) is not job:
                    continue  # stopped or failed meanwhile
                if isinstance(event, p.Error):
                    failures.append((job, p.Error(job.id, event.kind, event.message)))
                elif (refused := self._send_now(job)) is not None:
                    failures.append((job, refused))
        for job, error in failures:
            self._finish(job, error)

    def _resend(self, job: Job) -> bool:
        """Send a reply lost to an AMX crash once more, after the model is reloaded; False if it cannot be."""
        with self._lock:
            if self._closed or self._last_load is None:
                return False
            job.resent = True
            self._jobs[job.id] = job
            self._hold(job)
        return True

    def _on_job_ended(self, job: Job, event: p.Event) -> None:
        """(With the lock held) what a load's or unload's outcome changes: the model in use, what to reload."""
        if job.kind == "unload":
            self.info = None
        elif job.kind != "load":
            return
        elif isinstance(event, p.Loaded):
            self.info = event.info
            self._needs_reload = False
        elif isinstance(event, p.Error):
            self.info = None
            self._needs_reload = False
            if event.kind != ErrorKind.CRASHED:
                self._last_load = None

    # ---------------------------------------------------------- jobs

    def start(self) -> None:
        """Start the engine process now (it takes ~0.3 s), so that the first load need not wait.

        Does nothing once the client is closed (a start queued behind a quick quit)."""
        with self._lock:
            if not self.alive and not self._closed:
                self._start()

    def start_load(self, options: LoadOptions, on_event: EventSink, gguf: GGUFInfo | None = None,
                   job_id: int = 0) -> int:
        """Load a model; `gguf` is its header if the caller has it (the engine then reads none)."""
        self._last_load = options
        if gguf is not None and Path(gguf.path) != Path(options.path):
            gguf = None
        job = Job(job_id or jobs.new_job_id(), "load", lambda i: p.Load(i, options, gguf), JobEvents(on_event),
                  options=options)
        if not self.alive:
            job.events.send(p.Progress(job.id, 0.0))  # starting the engine process: say so before the spawn
        return self._submit(job)

    def start_chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
                   thinking: str, on_event: EventSink, job_id: int = 0, tools: str = "") -> int:
        chat = (tuple(messages), sampling, OverflowPolicy(overflow), thinking, tools)
        return self._submit(Job(job_id or jobs.new_job_id(), "chat", lambda i: p.Chat(i, *chat), JobEvents(on_event)))

    def start_complete(self, prompt: str, sampling: SamplingParams, on_event: EventSink) -> int:
        """The continuation of a raw text prompt (no chat template): Token events, then Done or Error."""
        return self._submit(Job(jobs.new_job_id(), "chat", lambda i: p.Complete(i, prompt, sampling),
                                JobEvents(on_event)))

    def start_count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
                    thinking: str, on_event: EventSink, timeout: float | None = COUNT_TIMEOUT,
                    job_id: int = 0, tools: str = "") -> int:
        count = (tuple(messages), draft, OverflowPolicy(overflow), max_tokens, thinking, tools)
        return self._submit(Job(job_id or jobs.new_job_id(), "count", lambda i: p.Count(i, *count), JobEvents(on_event),
                                timeout=timeout, what="answer the token count"))

    def start_render(self, messages: Sequence[ChatMessage], thinking: str, on_event: EventSink,
                     timeout: float | None = COUNT_TIMEOUT) -> int:
        return self._submit(Job(jobs.new_job_id(), "render", lambda i: p.RenderPrompt(i, tuple(messages), thinking),
                                JobEvents(on_event), timeout=timeout, what="render the prompt"))

    def start_tokenize(self, text: str, messages: Sequence[ChatMessage], thinking: str, on_event: EventSink,
                       job_id: int = 0) -> int:
        """A text's tokens, or with `messages` the chat's exact prompt's: Tokenized or Error (beside replies)."""
        ask = (text, tuple(messages), thinking)
        return self._submit(Job(job_id or jobs.new_job_id(), "count", lambda i: p.Tokenize(i, *ask),
                                JobEvents(on_event), timeout=COUNT_TIMEOUT, what="split the text into tokens"))

    def start_next_tokens(self, messages: Sequence[ChatMessage], reply_tokens: Sequence[int], thinking: str,
                          on_event: EventSink, job_id: int = 0) -> int:
        """The best next tokens after the prompt and a reply's first tokens: NextTokensFound or Error.

        Its turn comes after the replies sent before it (it evaluates)."""
        ask = (tuple(messages), tuple(reply_tokens), thinking)
        return self._submit(Job(job_id or jobs.new_job_id(), "render", lambda i: p.NextTokens(i, *ask),
                                JobEvents(on_event), timeout=NEXT_TOKENS_TIMEOUT, what="find the next tokens"))

    def start_unload(self, on_event: EventSink, job_id: int = 0) -> int:
        self._last_load = None
        job = Job(job_id or jobs.new_job_id(), "unload", p.Unload, JobEvents(on_event), timeout=UNLOAD_SECONDS,
                  what="free the model")
        if not self.alive:
            self.info = None
            job.events.send(p.Unloaded(job.id))
            return job.id
        return self._submit(job)

    def cancel(self, job_id: int = 0) -> None:
        """Stop one reply by its job id (within one token; a queued one never starts),
        or with no id every reply under way or queued (quitting)."""
        now, ended = time.monotonic(), []
        with self._lock:
            targets = [job_id] if job_id else list(self._jobs)
            for target in targets:
                job = self._jobs.get(target)
                if job is None or job.kind != "chat" or job.cancelled_at is not None:
                    continue  # over, not a reply, or already told
                job.cancelled_at = now
                if job in self._held:  # never sent: it ends here
                    self._held.remove(job)
                    ended.append(job)
                elif self._conn is not None:
                    with contextlib.suppress(OSError):
                        self._conn.send(p.Cancel(target))
        for job in ended:
            self._finish(job, job.cancelled())

    # ---------------------------------------------------------- blocking calls over jobs

    def complete(self, prompt: str, sampling: SamplingParams | None = None,
                 stop: threading.Event | None = None) -> Iterator[ReplyEvent]:
        """Stream the continuation of a raw text prompt (no chat template): Token events, then Done or Error."""
        chosen = sampling or SamplingParams()
        return jobs.stream(lambda sink: self.start_complete(prompt, chosen, sink), self.cancel, stop)

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = COUNT_TIMEOUT) -> p.Rendered:
        """The exact prompt text (special tokens included) and its token count."""
        return jobs.wait_for(lambda sink: self.start_render(messages, thinking, sink, timeout), p.Rendered)

    def tokenize(self, text: str = "", messages: Sequence[ChatMessage] = (), thinking: str = "default") -> p.Tokenized:
        return jobs.wait_for(lambda sink: self.start_tokenize(text, messages, thinking, sink), p.Tokenized)

    def next_tokens(self, messages: Sequence[ChatMessage], reply_tokens: Sequence[int] = (),
                    thinking: str = "default") -> p.NextTokensFound:
        return jobs.wait_for(lambda sink: self.start_next_tokens(messages, reply_tokens, thinking, sink),
                             p.NextTokensFound)

    def unload(self) -> None:
        with contextlib.suppress(EngineError):
            jobs.wait_for(self.start_unload, p.Unloaded)
        self.info = None

    # ---------------------------------------------------------- closing

    def begin_close(self) -> None:
        """Start closing without waiting: every job under way ends at once with an "engine closed" error,
        no new one is taken, and the worker is told to stop. close() finishes the job."""
        with self._lock:
            if self._closed:
                return
            process, conn = self._process, self._conn
            self._process, self._conn, self.info = None, None, None
            self._closed = True
            if process is not None and conn is not None:
                self._closing = process
            waiting, self._held = list(self._jobs.values()), []
        for job in waiting:
            self._finish(job, p.Error(job.id, ErrorKind.CRASHED, CLOSED_MESSAGE))
        if process is None or conn is None:
            return
        try:
            conn.send(p.Cancel(0))  # a reply under way stops at the next token, so the worker exits cleanly
            conn.send(p.Shutdown())
        except (OSError, TypeError):  # TypeError: the worker ended and its reader closed the pipe meanwhile
            pass

    def close(self, seconds: float = CLOSE_SECONDS) -> None:
        """Stop the worker: it gets `seconds` to exit by itself (a reply stops at the next token), then
        it is killed (a load inside llama.cpp cannot be interrupted). Every job under way gets an error."""
        self.begin_close()
        with self._lock:
            process, self._closing = self._closing, None
        if process is None:
            return
        process.join(timeout=max(0.0, seconds))
        if process.is_alive():
            process.kill()
            process.join(timeout=KILL_SECONDS)
        # the pipe is left to its reader thread, which closes it once it reads the worker's end

    def kill(self) -> None:
        """Kill the worker abruptly (used to test crash recovery)."""
        with self._lock:
            if self._process is not None:
                self._process.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
