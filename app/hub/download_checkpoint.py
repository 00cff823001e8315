"""Saving which ranges of a download are done, only once those bytes are on the disk.

Connections mark bytes done as soon as they are written (handed to the OS).
Every few seconds this thread takes that list, syncs the partial file to disk
(`fdatasync`) and only then saves the list in the download record, so the
record never claims bytes a power cut could lose. The sync runs here, not on
the connections, so a disk slower than the network does not slow the download.
When the download stops (pause, failure) one last pass runs, waited for only
briefly: if the disk is slow, the record keeps the previous list, which is
still true, and the last seconds are fetched again next time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from app.hub.download_ranges import Interval, RangeTracker
from app.hub.download_sink import sync_to_disk


class Checkpoints:
    """Every `every` seconds: snapshot the done ranges, sync the file, then `save(snapshot)`."""

    def __init__(self, partial: Path, tracker: RangeTracker, save: Callable[[list[Interval]], None],
                 every: float) -> None:
        self.partial, self.tracker, self.save, self.every = partial, tracker, save, every
        self._finish = threading.Event()
        self._final = False
        self._abandoned = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="hearth-download-checkpoint", daemon=True)

    def start(self) -> Checkpoints:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._finish.wait(self.every):
            self._once()
        if self._final:
            self._once()

    def _once(self) -> None:
        done = self.tracker.done()
        try:
            sync_to_disk(self.partial)
            with self._lock:
                if not self._abandoned:
                    self.save(done)
        except OSError:
            pass  # the download itself reports a failing disk; a later pass or the last save tries again

    def finish(self, final: bool, wait: float) -> None:
        """Stop; with `final`, save once more if the sync takes at most `wait` seconds. No save after this."""
        self._final = final
        self._finish.set()
        self.thread.join(wait if final else 0.0)
        with self._lock:
            self._abandoned = True
