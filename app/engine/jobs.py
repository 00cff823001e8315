"""Engine jobs (no Qt): one id space, one delivery rule, and the blocking calls built on them.

Starting a load, chat or count returns its job id at once; every event of the job carries that id
and is handed to the job's `on_event` callback, in order, on a thread of the engine's own (the local
engine's pipe reader, a remote engine's request thread). A job always ends with exactly one final
event (Loaded, Done, Counted, Rendered, Unloaded or Error); nothing of it is delivered after that.

Ids come from one counter for the whole process, so a job id names one job whichever engine runs it
(the GUI's engine, a Compare column's, the router's local or remote one).

The blocking calls the CLI and the API server use (load -> ModelInfo, chat -> iterator of events,
count -> CountResult) are thin waits on a job: `wait_load`, `stream` and `wait_for` below.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from app.engine import protocol as p
from app.engine.protocol import EngineError, ModelInfo

log = logging.getLogger("app.engine")

EventSink = Callable[[p.Event], None]
StartJob = Callable[[EventSink], int]  # starts a job whose events go to the sink; returns its id
ReplyEvent = p.Token | p.Reading | p.Done | p.Error
FINAL = (p.Loaded, p.Done, p.Counted, p.Rendered, p.Tokenized, p.NextTokensFound, p.Unloaded, p.Error)
STOP_POLL_SECONDS = 0.1  # how often a blocking reply looks at its caller's `stop` event

_ids = itertools.count(1)
_ids_lock = threading.Lock()
Answer = TypeVar("Answer", p.Counted, p.Rendered, p.Tokenized, p.NextTokensFound, p.Unloaded)


def new_job_id() -> int:
    """A job id no other job of this process has (ids only grow)."""
    with _ids_lock:
        return next(_ids)


def is_final(event: p.Event) -> bool:
    return isinstance(event, FINAL)


class JobEvents:
    """One job's delivery: events reach `on_event` in order, the final one once, nothing after it.

    Several threads may deliver (the reader, a Stop, close()); the lock keeps them in one order."""

    def __init__(self, on_event: EventSink) -> None:
        self._on_event = on_event
        self._lock = threading.RLock()
        self.ended = False
        self.done = threading.Event()  # set once the final event is delivered

    def send(self, event: p.Event) -> bool:
        """Deliver `event`; False if the job had already ended (the event is dropped)."""
        with self._lock:
            if self.ended:
                return False
            self.ended = is_final(event)
            try:
                self._on_event(event)
            except Exception:  # a caller's bug must not stop the engine's reader
                log.exception("a job's event handler failed")
            if self.ended:
                self.done.set()
            return True


# ---------------------------------------------------------------- blocking calls over jobs


def wait_load(start: StartJob, on_progress: Callable[[float], None] | None = None) -> ModelInfo:
    """Start a load job and wait for it: its ModelInfo, or EngineError."""
    events: queue.Queue[p.Event] = queue.Queue()
    start(events.put)
    while True:
        event = events.get()
        if isinstance(event, p.Progress):
            if on_progress is not None:
                on_progress(event.fraction)
        elif isinstance(event, p.Loaded):
            return event.info
        elif isinstance(event, p.Error):
            raise EngineError(event.kind, event.message, event.detail)


def stream(start: StartJob, cancel: Callable[[int], None], stop: threading.Event | None = None) -> Iterator[ReplyEvent]:
    """Start a reply job and yield its Token and Reading events, then its one Done or Error.

    Setting `stop` stops this reply only (also while it waits for another caller's to end); so does
    leaving the loop early."""
    if stop is not None and stop.is_set():  # stopped before it was sent
        yield p.Done(0, p.Stats(stop_reason=p.StopReason.CANCELLED))
        return
    events: queue.Queue[p.Event] = queue.Queue()
    job_id = start(events.put)
    told, ended = False, False
    try:
        while True:
            # Looked at before every wait, not only when one times out: a reply's tokens come every
            # 40 ms, so a wait of STOP_POLL_SECONDS would never time out while it streams.
            if stop is not None and not told and stop.is_set():
                cancel(job_id)
                told = True
            try:
                event = events.get(timeout=STOP_POLL_SECONDS if stop is not None and not told else None)
            except queue.Empty:
                continue
            if not isinstance(event, (p.Token, p.Reading, p.Done, p.Error)):
                continue
            ended = is_final(event)
            yield event
            if ended:
                return
    finally:
        if not ended:  # the caller left early: the engine need not go on writing
            cancel(job_id)


def wait_for(start: StartJob, wanted: type[Answer]) -> Answer:
    """Start a job and wait for its one answer (Counted, Rendered, Unloaded); an Error raises EngineError."""
    events: queue.Queue[p.Event] = queue.Queue()
    start(events.put)
    while True:
        event = events.get()
        if isinstance(event, wanted):
            return event
        if isinstance(event, p.Error):
            raise EngineError(event.kind, event.message, event.detail)
