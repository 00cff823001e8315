"""Which bytes of one file are on disk, which are being fetched, and which are still missing.

A download of one file is cut into ranges (64 MiB by default) that several
connections fetch at once. The tracker hands out the lowest missing range to
whichever connection asks, records bytes as done once they are written, and
tells the hasher how far the file is complete from its start. Done bytes are
kept as merged half-open intervals `[start, end)`: that list is what the
download record saves, so a resume fetches only what is missing.
"""

from __future__ import annotations

import threading

Interval = tuple[int, int]  # [start, end)


def merged(intervals: list[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined; empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted((int(s), int(e)) for s, e in intervals if int(e) > int(s)):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def clipped(intervals: list[Interval], size: int) -> list[Interval]:
    """The intervals cut to `[0, size)` (a record can never claim bytes past the file's end)."""
    return merged([(max(s, 0), min(e, size)) for s, e in intervals])


def covered(intervals: list[Interval]) -> int:
    return sum(end - start for start, end in intervals)


def gaps(intervals: list[Interval], size: int) -> list[Interval]:
    """The parts of `[0, size)` that no interval covers."""
    out, at = [], 0
    for start, end in merged(intervals):
        if start > at:
            out.append((at, min(start, size)))
        at = max(at, end)
    if at < size:
        out.append((at, size))
    return [(s, e) for s, e in out if e > s]


class RangeTracker:
    """Thread-safe: connections `claim` ranges and `complete` bytes; the hasher waits on `prefix`."""

    def __init__(self, size: int, range_size: int, done: list[Interval] | None = None) -> None:
        self.size = size
        self.range_size = max(int(range_size), 1)
        self._done = clipped(list(done or []), size)
        self._claimed: list[Interval] = []
        self._changed = threading.Condition()

    def claim(self) -> Interval | None:
        """The lowest missing range nobody is fetching (at most `range_size` long), or None."""
        with self._changed:
            for start, end in gaps(self._done + self._claimed, self.size):
                claim = (start, min(end, start + self.range_size))
                self._claimed.append(claim)
                return claim
            return None

    def release(self, claim: Interval) -> None:
        """A connection gives its range back (it stopped); whatever it completed stays done."""
        with self._changed:
            if claim in self._claimed:
                self._claimed.remove(claim)
            self._changed.notify_all()

    def complete(self, start: int, end: int) -> None:
        """Bytes `[start, end)` are written to the file (handed to the OS, not yet synced)."""
        with self._changed:
            self._done = merged(self._done + [(start, end)])
            self._changed.notify_all()

    def done(self) -> list[Interval]:
        with self._changed:
            return list(self._done)

    def missing(self) -> int:
        with self._changed:
            return self.size - covered(self._done)

    def prefix(self) -> int:
        """How many bytes from the start of the file are done without a gap."""
        with self._changed:
            return self._prefix()

    def _prefix(self) -> int:
        return self._done[0][1] if self._done and self._done[0][0] == 0 else 0

    def wait_prefix(self, beyond: int, timeout: float) -> int:
        """Wait (up to `timeout` s) until the done prefix reaches past `beyond`; return the prefix."""
        with self._changed:
            self._changed.wait_for(lambda: self._prefix() > beyond, timeout)
            return self._prefix()

    def wake(self) -> None:
        """Wake every waiter (the download is stopping)."""
        with self._changed:
            self._changed.notify_all()
