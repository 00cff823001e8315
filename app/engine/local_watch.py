"""The local engine's jobs under way, and the clock that watches them (no Qt).

EngineClient (client.py) builds on this: it registers a Job per request it sends; the pipe reader
hands each event to its job (`_dispatch`) and, between events, calls `_watch_if_due`, which ends
what would otherwise wait forever:
- a reply told to stop that has not ended within `cancel_grace` seconds ends as cancelled, with the
  text so far (and an engine silent for STOP_SILENCE_SECONDS then is declared hung);
- a count or render that took longer than its timeout fails;
- `hang_timeout` seconds without any event from a busy engine: it is declared hung (killed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess

from app.engine import engine_log, jobs
from app.engine import protocol as p
from app.engine.jobs import JobEvents
from app.engine.protocol import ErrorKind, LoadOptions

STOP_SILENCE_SECONDS = 0.75  # after Stop, silence this long (heartbeats come every 0.5 s) means stopped
CLOSED_MESSAGE = "the engine has been shut down"
HUNG_MESSAGE = "the engine stopped responding; it was restarted"


@dataclass(eq=False)
class Job:
    """One request to the engine process and what the client keeps of it until it ends."""

    id: int
    kind: str  # "load", "chat" (a reply or a raw completion), "count", "render" or "unload"
    request: Callable[[int], p.Request]  # the request, given its id (sent again after a crash)
    events: JobEvents
    options: LoadOptions | None = None  # a load's, for the log
    timeout: float | None = None  # seconds from sending to the answer (counts, renders, unloads)
    what: str = ""  # what did not happen in time: "answer the token count"
    started: float = field(default_factory=time.monotonic)
    sent_at: float | None = None
    cancelled_at: float | None = None  # when Stop was sent
    pieces: list[str] = field(default_factory=list)  # a reply's text so far
    n_tokens: int = 0
    resent: bool = False  # sent again after an AMX crash (once at most)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def cancelled(self) -> p.Done:
        """How a stopped reply ends when the engine does not end it: cancelled, with the text so far."""
        stats = p.Stats(completion_tokens=self.n_tokens, stop_reason=p.StopReason.CANCELLED)
        return p.Done(self.id, stats, self.text)


class JobTable:
    POLL_SECONDS = 0.1  # how often the reader looks at the clock while no event comes

    def __init__(self, hang_timeout: float, cancel_grace: float) -> None:
        self.hang_timeout = hang_timeout
        self.cancel_grace = cancel_grace
        self._lock = threading.RLock()
        self._jobs: dict[int, Job] = {}
        self._process: BaseProcess | None = None
        self._closed = False
        self._last_heard = time.monotonic()  # when the worker last sent anything
        self._last_watch = 0.0

    @property
    def pending(self) -> list[int]:
        """The ids of the jobs under way (sent, or waiting for a reload)."""
        with self._lock:
            return list(self._jobs)

    def _declare_hung(self, process: BaseProcess) -> None:
        raise NotImplementedError

    def _on_job_ended(self, job: Job, event: p.Event) -> None:
        raise NotImplementedError

    def _dispatch(self, event: p.Event) -> None:
        """Hand one event from the pipe to its job (heartbeats, and a stopped job's late events, have none)."""
        with self._lock:
            job = self._jobs.get(event.id) if event.id else None
        if job is None:
            return
        if isinstance(event, p.Token):
            job.pieces.append(event.text)
            job.n_tokens = event.n_tokens
        if jobs.is_final(event):
            self._finish(job, event)
        else:
            job.events.send(event)

    def _finish(self, job: Job, event: p.Event) -> None:
        """End a job with its final event (once: a job already ended is left alone)."""
        with self._lock:
            if self._jobs.get(job.id) is not job:
                return
            del self._jobs[job.id]
            self._on_job_ended(job, event)
            closed = self._closed
        if job.kind == "load" and job.options is not None:
            engine_log.load_ended(job.options, time.monotonic() - job.started, event, closed)
        elif job.kind == "chat" and isinstance(event, p.Error):
            engine_log.reply_failed(event, closed)
        job.events.send(event)

    def _watch_if_due(self, process: BaseProcess) -> None:
        """(On the reader thread) end the jobs whose time is up; declare a silent engine hung."""
        now = time.monotonic()
        if now - self._last_watch < self.POLL_SECONDS:
            return
        self._last_watch = now
        with self._lock:
            if self._process is not process:
                return
            waiting = list(self._jobs.values())
        for job in waiting:
            if job.cancelled_at is not None and now - job.cancelled_at >= self.cancel_grace:
                self._finish(job, job.cancelled())
                if now - self._last_heard > STOP_SILENCE_SECONDS:
                    self._declare_hung(process)  # no heartbeat lately: not alive enough to stop by itself
                    return
            elif job.timeout is not None and job.sent_at is not None and now - job.sent_at > job.timeout:
                self._finish(job, p.Error(job.id, ErrorKind.INTERNAL, f"the engine did not {job.what} in time"))
        if waiting and now - self._last_heard >= self.hang_timeout:
            self._declare_hung(process)  # puts the HUNG error on every job
