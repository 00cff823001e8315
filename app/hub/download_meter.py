"""Download progress as bytes, speed over the last few seconds and time left."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from app.hub.download_record import DownloadProgress


class DownloadMeter:
    """Bytes, speed (over the last few seconds) and time left; cheap enough to call per packet.

    Several connections call `advance` at once: the count is kept under a lock, and the
    callback is called at most every 0.1 s (and once at the end) by whichever thread is there."""

    def __init__(self, total: int, parts: int, callback: Callable[[DownloadProgress], None] | None) -> None:
        self.total, self.parts, self.callback = total, parts, callback
        self.done = 0
        self.part = 1
        self._window: deque[tuple[float, int]] = deque()
        self._last_report = 0.0
        self._lock = threading.Lock()

    def waiting(self, seconds_left: float) -> None:
        if self.callback is not None:
            self.callback(DownloadProgress(self.done, self.total, 0.0, None, self.part, self.parts,
                                           waiting_s=seconds_left))

    def advance(self, n: int) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self._last_report < 0.1 and self.done < self.total:
                return
            self._last_report = now
            window = self._window
            window.append((now, self.done))
            while len(window) > 2 and now - window[0][0] > 3.0:
                window.popleft()
            (t0, b0), (t1, b1) = window[0], window[-1]
            speed = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
            eta = (self.total - self.done) / speed if speed > 0 else None
            if self.callback is not None:  # under the lock: reports never go backwards
                self.callback(DownloadProgress(self.done, self.total, speed, eta, self.part, self.parts))
