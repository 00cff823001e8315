"""The one way the GUI runs short background jobs (scans, file reads, Hub calls, token checks).

    tasks.run(fn, on_success=..., on_failure=...)

runs `fn()` on a thread pool and calls back on the GUI thread: `on_success(result)` when it
returns, `on_failure(error)` when it raises. Without an `on_failure` the error goes to the
`failed` signal, so no error is silently dropped. Long work that can stop early takes a
`cancelled` callable: `tasks.run(lambda: scan(..., cancelled=tasks.cancel_requested), ...)`.

A job that blocks where no flag reaches (a download reading a socket) also passes
`cancel=`, a function called on the GUI thread when quitting begins (e.g. `downloader.pause`).
Jobs with their own limit on threads pass `pool=` (downloads run two at a time on theirs).

Quitting: `stop()` asks running jobs to stop (the flag and every `cancel=`) and drops every
callback still to come, without waiting; `wait(seconds)` then waits for every pool a job ran
on; `shutdown(seconds)` does both. A job still running at exit can hold the process up
(Qt waits for its pools), so long jobs check the flag. The engine has its own threads
and is shut down by EngineService.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

T = TypeVar("T")
log = logging.getLogger(__name__)
Success = Callable[[Any], None]
Failure = Callable[[Exception], None]


class _Relay(QObject):
    """Lives on the GUI thread, so its slot runs there when the pool thread emits."""

    done = Signal(object, object)  # result, error

    def __init__(self, tasks: BackgroundTasks, on_success: Success | None, on_failure: Failure | None,
                 cancel: Callable[[], None] | None) -> None:
        super().__init__()
        self.tasks, self.on_success, self.on_failure, self.cancel = tasks, on_success, on_failure, cancel
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
            log.warning("a background job failed: %s: %s", type(error).__name__, error)
            self.on_failure(error)
        else:  # nobody expected this one: the traceback goes to the log
            log.error("a background job failed", exc_info=error)
            self.tasks.failed.emit(error)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
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
        self._pools: list[QThreadPool] = [self.pool]  # every pool a job ran on: quitting waits for each
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
            on_failure: Failure | None = None, *, pool: QThreadPool | None = None,
            cancel: Callable[[], None] | None = None) -> bool:
        """Run fn() off the GUI thread; fn must not touch any widget. False once quitting has begun.

        `cancel`, if given, is called on the GUI thread when quitting begins, to end a job
        that waits where the cancel flag does not reach.
        """
        if self.closed:
            return False
        pool = pool or self.pool
        if all(known is not pool for known in self._pools):
            self._pools.append(pool)
        relay = _Relay(self, on_success, on_failure, cancel)
        self._running.add(relay)
        pool.start(_Job(fn, relay))
        return True

    def _finished(self, relay: _Relay) -> None:
        self._running.discard(relay)
        if not self._running:
            self.idle.emit()

    def stop(self) -> None:
        """Quitting begins: set the cancel flag, call every job's `cancel`, drop callbacks still to come."""
        if self.closed:
            return
        self.closed = True
        self._cancel.set()
        for relay in list(self._running):
            if relay.cancel is not None:
                try:
                    relay.cancel()
                except Exception:  # noqa: BLE001 - one job's cancel must not stop the others being asked
                    pass

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` in all for every pool a job ran on; True if all their threads are idle."""
        deadline = time.monotonic() + seconds
        done = True
        for pool in self._pools:
            try:
                done = pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000))) and done
            except RuntimeError:  # its owner (and so its threads) already went
                continue
        return done

    def shutdown(self, seconds: float = 1.0) -> bool:
        """stop(), then wait up to `seconds`; True if every job ended."""
        self.stop()
        return self.wait(seconds)
