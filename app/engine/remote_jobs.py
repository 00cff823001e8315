"""A remote engine's jobs, each on a thread of its own that does its HTTP (no Qt).

A job's thread sends the request and reads the answer itself; nothing else waits or relays. Loads
and replies take turns (as in the local engine, one at a time, in the order asked); counts run at
once, beside a reply. Stopping a job sets its flag, shuts its connections down (remote_cancel), so its
blocking read ends at once, and delivers its final event straight away: a stopped reply ends as
cancelled with the text so far even while its thread is still connecting.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from app.engine import jobs
from app.engine import protocol as p
from app.engine.jobs import EventSink, JobEvents
from app.engine.remote_cancel import shut


@dataclass(eq=False)
class RemoteJob:
    id: int
    kind: str  # "load", "chat" or "count"
    events: JobEvents
    stop: threading.Event = field(default_factory=threading.Event)
    sockets: list[socket.socket] = field(default_factory=list)  # the connections it opened
    stopped: Callable[[], p.Event] | None = None  # a reply's final event once stopped (cancelled, text so far)

    def cancelled(self) -> bool:
        return self.stop.is_set()


class JobThreads:
    def __init__(self) -> None:
        self._jobs_lock = threading.Lock()
        self._jobs: dict[int, RemoteJob] = {}
        self._last_turn = threading.Event()  # the end of the last load or reply asked for
        self._last_turn.set()

    def _run(self, kind: str, on_event: EventSink, work: Callable[[RemoteJob], None], name: str,
             job_id: int = 0) -> int:
        """Start `work(job)` on its own thread (loads and replies after the one before has ended)."""
        job = RemoteJob(job_id or jobs.new_job_id(), kind, JobEvents(on_event))
        with self._jobs_lock:
            self._jobs[job.id] = job
            before = None
            if kind != "count":
                before, self._last_turn = self._last_turn, job.events.done

        def run() -> None:
            try:
                if before is not None:
                    before.wait()  # its turn: the load or reply before it has ended
                if not job.cancelled():
                    work(job)
            except Exception as exc:  # noqa: BLE001 (a bug must still end the job with words)
                job.events.send(p.Error(job.id, p.ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}"))
            finally:
                with self._jobs_lock:
                    self._jobs.pop(job.id, None)

        threading.Thread(target=run, name=name, daemon=True).start()
        return job.id

    def _stop(self, job: RemoteJob, final: p.Event) -> None:
        """End a job now: its connections are shut (its thread's read ends) and `final` is its last event."""
        job.stop.set()
        for sock in list(job.sockets):
            shut(sock)
        job.events.send(final)

    def _under_way(self, job_id: int = 0) -> list[RemoteJob]:
        with self._jobs_lock:
            return [job for job in self._jobs.values() if job_id in (0, job.id)]
