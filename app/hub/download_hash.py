"""SHA-256 of a file whose ranges land out of order: read back and hashed as its complete prefix grows.

The Hub publishes one SHA-256 per file, so the bytes must be hashed in file
order. Connections write ranges in any order; this hasher follows the part of
the file that is complete from its start (`RangeTracker.prefix`), reading it
back from the partial file (the page cache, usually) on its own thread, so the
hashing overlaps the download instead of following it. What is hashed is what
is in the file, not what came over the wire: a write that went wrong is caught.
Hashed bytes are final, so the hasher also starts writing each block to disk
(`start_write_back`): the sync before the file is named complete then has
little left to wait for.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from app.hub.download_ranges import RangeTracker
from app.hub.download_sink import start_write_back

BLOCK = 4 << 20


class PrefixHasher:
    """Hashes `path` from its start as `tracker` reports it complete; `result` waits for the end.

    `stop()` true ends it early (call `tracker.wake()` so a wait for more bytes notices)."""

    def __init__(self, path: Path, tracker: RangeTracker, stop: Callable[[], bool]) -> None:
        self.path, self.tracker, self.stop = path, tracker, stop
        self.digest = hashlib.sha256()
        self.hashed = 0
        self.error: OSError | None = None
        self.thread = threading.Thread(target=self._run, name="hearth-download-hash", daemon=True)

    def start(self) -> PrefixHasher:
        self.thread.start()
        return self

    def _run(self) -> None:
        size = self.tracker.size
        buffer = bytearray(BLOCK)
        view = memoryview(buffer)
        try:
            with open(self.path, "rb", buffering=0) as handle:
                while self.hashed < size and not self.stop():
                    ready = self.tracker.wait_prefix(self.hashed, 0.25)
                    while self.hashed < ready and not self.stop():
                        n = handle.readinto(view[: min(BLOCK, ready - self.hashed)])
                        if not n:
                            raise OSError(f"{self.path.name} is shorter than the bytes written to it")
                        self.digest.update(view[:n])
                        start_write_back(handle.fileno(), self.hashed, n)
                        self.hashed += n
        except OSError as exc:
            self.error = exc
        finally:
            view.release()

    def result(self) -> str | None:
        """The hex digest once the whole file is hashed; None if stopped first. Raises what reading raised."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.digest.hexdigest() if self.hashed == self.tracker.size else None
