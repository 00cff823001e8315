"""The one way the GUI runs short background jobs (scans, file reads, Hub calls, token checks).

    tasks.run(fn, on_success=..., on_failure=...)

runs `fn()` on a thread pool and calls back on the GUI thread: `on_success(result)` when it
returns, `on_failure(error)` when it raises. Without an `on_failure` the error goes to the
`failed` signal, so no error is silently dropped. Long work that can stop early takes a
`cancelled` callable: `tasks.run(lambda: scan(..., cancelled=tasks.cancel_requested), ...)`.

Quitting: `shutdown(seconds)` asks running jobs to stop, drops every callback still to come,
and waits at most `seconds` for the pool. The engine and downloads have their own threads
(they are long-lived, not short jobs) and are shut down by their owners.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

T = TypeVar("T")
Success = Callable[[Any], None]
Failure = Callable[[Exception], None]


class _Relay(QObject):
    """Lives on the GUI thread, so its slot runs there when the pool thread emits."""

    done = Signal(object, object)  # result, error

    def __init__(self, tasks: "BackgroundTasks", on_success: Success | None, on_failure: Failure | None) -> None:
        super().__init__()
        self.tasks, self.on_success, self.on_failure = tasks, on_success, on_failure
        self.done.connect(self._finish)

    @Slot(object, object)
    def _finish(self, result: Any, error: Exception | None) -> None:
        self.tasks._finished(self)
        self.deleteLater()
        if self.tasks.closed:
            return  # quitting: the widgets these callbacks touch may be gone
        if error is None:
            if self.on_success is not None:
                self.on_success(result)
        elif self.on_failure is not None:
            self.on_failure(error)
        else:
            self.tasks.failed.emit(error)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # handed to the GUI thread, never lost
            self.relay.done.emit(None, exc)
        else:
            self.relay.done.emit(result, None)


class BackgroundTasks(QObject):
    """Runs short jobs off the GUI thread and counts them, so quitting can wait or cancel."""

    failed = Signal(object)  # an Exception from a job that had no on_failure
    idle = Signal()  # the last running job has reported back

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._running: set[_Relay] = set()
        self._cancel = threading.Event()
        self.closed = False

    @property
    def running(self) -> int:
        """Jobs started and not yet reported back."""
        return len(self._running)

    def cancel_requested(self) -> bool:
        """For jobs that loop: True once quitting has begun. Safe to call from any thread."""
        return self._cancel.is_set()

    def run(self, fn: Callable[[], T], on_success: Callable[[T], None] | None = None,
            on_failure: Failure | None = None, *, pool: QThreadPool | None = None) -> None:
        """Run fn() off the GUI thread; fn must not touch any widget."""
        if self.closed:
            return
        relay = _Relay(self, on_success, on_failure)
        self._running.add(relay)
        (pool or self.pool).start(_Job(fn, relay))

    def _finished(self, relay: _Relay) -> None:
        self._running.discard(relay)
        if not self._running:
            self.idle.emit()

    def shutdown(self, seconds: float = 1.0) -> bool:
        """Ask jobs to stop, drop their callbacks and wait up to `seconds`; True if all ended."""
        self.closed = True
        self._cancel.set()
        deadline = time.monotonic() + seconds
        return self.pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000)))
