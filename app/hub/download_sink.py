"""Where downloaded bytes go: hashed and written to the partial file on two helper threads."""

from __future__ import annotations

import os
import threading
from pathlib import Path

CHUNK = 1 << 20  # one buffer: what a single socket read may fill


class SinkError(OSError):
    """Writing the partial file failed (as opposed to the network)."""


class Sink:
    """Hashes and writes downloaded bytes on two helper threads, from a pool of reused buffers.

    The socket is read into buffers we own (no fresh allocations); while one buffer
    is hashed and written (in parallel, on two threads) the next is being filled.
    All three spend their time in C with the GIL released.
    """

    BUFFERS = 8

    def __init__(self, path: Path, digest) -> None:
        import queue

        self.path, self.digest = path, digest
        self.free: queue.Queue = queue.Queue()
        for _ in range(self.BUFFERS):
            self.free.put(bytearray(CHUNK))
        self.error: BaseException | None = None
        self._done_lock = threading.Lock()
        self._done: dict[int, int] = {}
        self.queues = [queue.Queue(), queue.Queue()]
        self.threads = [
            threading.Thread(target=self._drain, args=(self.queues[0], self._hash), daemon=True),
            threading.Thread(target=self._drain, args=(self.queues[1], self._write), daemon=True),
        ]

    def __enter__(self) -> "Sink":
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for thread in self.threads:
            thread.start()
        return self

    def fill_from(self, response, stop: threading.Event, limit: int):
        """Read at most `limit` bytes of the body into buffers; yield the byte count of each read."""
        buffer = self.free.get()
        view = memoryview(buffer)
        filled = 0
        try:
            while not stop.is_set() and limit > 0:
                if self.error is not None:
                    raise SinkError(getattr(self.error, "errno", None) or 0, str(self.error))
                n = response.readinto(view[filled:filled + min(len(buffer) - filled, limit)])
                if not n:
                    break
                filled += n
                limit -= n
                yield n
                if filled == len(buffer):
                    self._submit(buffer, filled)
                    buffer = self.free.get()
                    view = memoryview(buffer)
                    filled = 0
        finally:
            # Whatever arrived before a drop or a stop is written: a resume starts after it.
            view.release()
            if filled:
                self._submit(buffer, filled)

    def _submit(self, buffer: bytearray, n: int) -> None:
        for q in self.queues:
            q.put((buffer, n))

    def _hash(self, data: memoryview) -> None:
        self.digest.update(data)

    def _write(self, data: memoryview) -> None:
        written = 0
        while written < len(data):
            written += os.write(self.fd, data[written:])

    def _drain(self, q, job) -> None:
        while (item := q.get()) is not None:
            buffer, n = item
            if self.error is None:
                data = memoryview(buffer)[:n]
                try:
                    job(data)
                except BaseException as exc:  # reported on the downloading thread
                    self.error = exc
                finally:
                    data.release()
            with self._done_lock:  # the buffer is free once both threads are done with it
                key = id(buffer)
                self._done[key] = self._done.get(key, 0) + 1
                if self._done[key] == 2:
                    del self._done[key]
                    self.free.put(buffer)

    def __exit__(self, *exc_info) -> None:
        for q in self.queues:
            q.put(None)
        for thread in self.threads:
            thread.join()
        os.close(self.fd)
        if self.error is not None and exc_info[0] is None:
            error = self.error
            raise SinkError(getattr(error, "errno", None) or 0, str(error))
