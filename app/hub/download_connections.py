"""The connections that fetch one file's ranges at once, each retrying only its own range.

Each connection runs on its own thread: it claims the lowest missing range from
the `RangeTracker`, asks for it with `Range: bytes=a-b`, reads the body into a
buffer it owns (`http_fetch.readinto`, the GIL released) and writes each full
buffer at its offset in the partial file (the bytes count as done only then). A dropped connection asks again for
what is left of its own range; a 429 or 5xx waits and asks again; any other
failure stops every connection and is reported once. `stop` ends them all from
any thread, also a read stuck on a silent server.
"""

from __future__ import annotations

import errno
import functools
import http.client
import re
import threading
import time
from dataclasses import dataclass

from app.formatting import human_bytes
from app.hub.download_meter import DownloadMeter
from app.hub.download_ranges import RangeTracker
from app.hub.download_sink import Sink, SinkError
from app.hub.errors import HubError, HubErrorKind, error_for_status, retry_after_seconds
from app.hub.http_fetch import Fetched, fetch, interrupt
from app.hub.quant import HubFile

# What stop can end: a connection waiting for its headers, or a response whose body is being read.
Live = Fetched | http.client.HTTPConnection

MAX_RETRIES = 5
# With `adaptive`, a file starts on one connection, opens the others after PROBE_SECONDS of data,
# and keeps them only if together they beat the one by GAIN_TO_KEEP over the next 2 * PROBE_SECONDS.
# Where one connection already fills the line or the CPU, more only compete for it (2 cores,
# loopback: 1 connection 0.95x curl, 2 0.86x, 4 0.73x); where a server caps each connection,
# four are up to four times as fast (docs/BENCHMARKS.md).
PROBE_SECONDS = 0.5
GAIN_TO_KEEP = 1.15
BUFFER = 1 << 20  # filled by socket reads, then written to the file (in 32 KiB pwrites, see Sink._write)


@dataclass
class FileJob:
    """One file being fetched: where from, where to, and what its connections share."""

    url: str
    headers: dict[str, str]
    part: HubFile
    sink: Sink
    tracker: RangeTracker
    meter: DownloadMeter


class _Cursor:
    """How far a connection has written its range (kept when a read raises part-way)."""

    def __init__(self, at: int) -> None:
        self.at = at


class Connections:
    """Fetches files over up to `count` connections; `stop` from any thread ends them all promptly."""

    def __init__(self, count: int, retry_backoff: float, max_retry_after: float, adaptive: bool = False) -> None:
        self.count = max(int(count), 1)
        self.adaptive, self.probe_seconds, self.gain_to_keep = adaptive, PROBE_SECONDS, GAIN_TO_KEEP
        self.used = 0  # how many connections the last file opened
        self.kept = 0  # how many of them went on to the end (fewer when more did not help)
        self._allowed = self.count  # connections with a higher index take no new range
        self.retry_backoff, self.max_retry_after = retry_backoff, max_retry_after
        self.stopped = threading.Event()
        self.reason = HubErrorKind.CANCELLED  # why they were stopped, once they are
        self.failure: HubError | None = None  # the first error that stopped them
        self._live: dict[int, Live] = {}  # connections and responses under way (by id), so stop can end their reads
        self._lock = threading.Lock()

    # ------------------------------------------------------------ from any thread

    def stop(self, reason: HubErrorKind) -> None:
        self.reason = reason
        self.stopped.set()
        with self._lock:
            live = list(self._live.values())
        for item in live:
            item.interrupt() if isinstance(item, Fetched) else interrupt(item)

    def check_stop(self) -> None:
        if self.failure is not None:
            raise self.failure
        if self.stopped.is_set():
            raise HubError(self.reason, f"download {self.reason.value}")

    def sleep(self, seconds: float) -> None:
        if self.stopped.wait(seconds):
            self.check_stop()

    # ------------------------------------------------------------ one file

    def fetch_file(self, job: FileJob) -> None:
        """Fetch every missing range of `job`; returns when all are written, raises why not otherwise."""
        ranges = -(-job.tracker.missing() // job.tracker.range_size)
        wanted = min(self.count, max(ranges, 1))
        self._allowed = 1 if self.adaptive else wanted
        threads = [self._start(job, 0)]
        if wanted > 1 and not self.adaptive:
            threads += [self._start(job, i) for i in range(1, wanted)]
        elif wanted > 1 and (alone := self._rate(job, threads, self.probe_seconds)) is not None:
            self._allowed = wanted
            threads += [self._start(job, i) for i in range(1, wanted)]
            together = self._rate(job, threads, 2 * self.probe_seconds)
            if together is not None and together < alone * self.gain_to_keep:
                self._allowed = 1  # the others finish the range they hold, then stop
        self.used, self.kept = len(threads), min(self._allowed, len(threads))
        for thread in threads:
            thread.join()
        self.check_stop()

    def _start(self, job: FileJob, index: int) -> threading.Thread:
        thread = threading.Thread(target=self._connection, args=(job, index), name=f"hearth-download-{index}",
                                  daemon=True)
        thread.start()
        return thread

    def _rate(self, job: FileJob, threads: list[threading.Thread], seconds: float) -> float | None:
        """Bytes a second over `seconds` once bytes flow; None when a connection ends first or all stop."""
        meter, last = job.meter, threads[-1]
        before = meter.done
        while meter.done == before:  # connecting, or waiting as the server asked: no speed to judge yet
            if self._ended(threads, last, 0.02):
                return None
        t0, b0 = time.monotonic(), meter.done
        while (elapsed := time.monotonic() - t0) < seconds:
            if self._ended(threads, last, 0.02):
                return None
        return (meter.done - b0) / elapsed

    def _ended(self, threads: list[threading.Thread], waiting_on: threading.Thread, seconds: float) -> bool:
        waiting_on.join(seconds)
        return self.stopped.is_set() or not all(thread.is_alive() for thread in threads)

    def _connection(self, job: FileJob, index: int) -> None:
        try:
            while not self.stopped.is_set() and index < self._allowed:
                claim = job.tracker.claim()
                if claim is None:
                    return
                try:
                    self._fetch_range(job, *claim)
                finally:
                    job.tracker.release(claim)
        except HubError as exc:
            if exc.kind not in (HubErrorKind.PAUSED, HubErrorKind.CANCELLED):
                self._fail(exc)
        except BaseException as exc:  # noqa: BLE001 - reported on the caller's thread, never lost
            self._fail(HubError(HubErrorKind.NETWORK,
                                f"{job.part.path}: the download failed ({type(exc).__name__}: {exc})"))

    def _fail(self, error: HubError) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = error
        self.stop(self.reason)  # the others stop too; check_stop reports the failure, not the reason

    def _fetch_range(self, job: FileJob, start: int, end: int) -> None:
        """Fetch `[start, end)`, asking again for what is left after a drop, until done or out of tries."""
        part, cursor, failures = job.part, _Cursor(start), 0
        while cursor.at < end:
            self.check_stop()
            before = cursor.at
            headers = dict(job.headers, Range=f"bytes={cursor.at}-{end - 1}")
            held: list[Live] = []  # this try's connections (one per redirect) and response
            try:
                with fetch(job.url, headers, functools.partial(self._hold, held=held)) as response:
                    self._hold(response, held)
                    if response.status >= 400:
                        failures = self._refused(job, response, failures)
                        continue
                    skip = self._check_answer(job, response, cursor.at)
                    self._receive(job, response, cursor, end, skip)
            except HubError:
                raise
            except SinkError as exc:
                if exc.errno == errno.ENOSPC:
                    raise HubError(HubErrorKind.DISK, f"the disk is full: {part.path} could not be written "
                                                      "(the partial download is kept and can be resumed)") from exc
                raise HubError(HubErrorKind.DISK, f"could not write {job.sink.path}: {exc.strerror or exc}") from exc
            except Exception as exc:  # noqa: BLE001 - protocol errors and drops: ask again for the rest
                self.check_stop()
                failures = self._again(0 if cursor.at > before else failures, part, exc)
                continue
            finally:
                self._release(held)
            self.check_stop()
            if cursor.at < end:  # the server closed early: ask for the rest of this range
                failures = 0 if cursor.at > before else failures
                failures = self._again(failures, part, None)

    def _refused(self, job: FileJob, response: Fetched, failures: int) -> int:
        """A 4xx/5xx answer: wait and return the new failure count if it is worth another try, else raise."""
        status, part = response.status, job.part
        if status == 416:
            raise HubError(HubErrorKind.CORRUPT, f"{part.path}: the server has fewer bytes than the "
                                                 f"{human_bytes(part.size)} the Hub lists; try again later")
        retry_after = min(retry_after_seconds(response.headers.get("Retry-After")), self.max_retry_after)
        error = error_for_status(status, f"download of {part.path}", retry_after)
        if error.kind not in (HubErrorKind.RATE_LIMITED, HubErrorKind.SERVER) or failures >= MAX_RETRIES:
            raise error
        failures += 1
        if error.retry_after:
            self._wait_for_server(error.retry_after, job.meter)
        else:
            self.sleep(self.retry_backoff * 2 ** (failures - 1))
        return failures

    def _check_answer(self, job: FileJob, response: Fetched, at: int) -> int:
        """Bytes to skip before `at` arrives: 0 for the 206 we asked for, `at` if the server sent the whole file."""
        size, path = job.part.size, job.part.path
        if response.status == 206:
            match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
            if match and int(match[1]) != at:
                raise HubError(HubErrorKind.CORRUPT, f"{path}: asked for bytes from {at:,}, the server sent "
                                                     f"bytes from {int(match[1]):,}; nothing was written")
            if match and match[3] != "*" and int(match[3]) != size:
                raise HubError(HubErrorKind.CORRUPT, f"{path}: the server has {int(match[3]):,} bytes but the Hub "
                                                     f"lists {size:,}; nothing was written")
            return 0
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) != size:
            raise HubError(HubErrorKind.CORRUPT, f"{path}: the server sends {int(length):,} bytes but the Hub "
                                                 f"lists {size:,}; nothing was written")
        return at  # a 200: the server ignored Range and sends the file from its start

    def _receive(self, job: FileJob, response: Fetched, cursor: _Cursor, end: int, skip: int) -> None:
        """Read the body up to `end` into a buffer, writing it at the cursor each time it fills (and at the end)."""
        buffer = bytearray(BUFFER)
        view = memoryview(buffer)
        while skip > 0 and not self.stopped.is_set():  # the server ignored Range: pass over what is not ours
            n = response.readinto(view[: min(BUFFER, skip)])
            if not n:
                return
            skip -= n
        filled = 0
        try:
            while not self.stopped.is_set() and cursor.at + filled < end:
                n = response.readinto(view[filled: filled + min(BUFFER - filled, end - cursor.at - filled)])
                if not n:
                    break
                filled += n
                job.meter.advance(n)
                if filled == BUFFER:
                    self._write(job, view, filled, cursor)
                    filled = 0
        finally:
            if filled:  # whatever arrived before a drop or a stop is kept: a resume starts after it
                self._write(job, view, filled, cursor)
        if cursor.at == end == job.part.size and not self.stopped.is_set() and response.readinto(view[:1]):
            raise HubError(HubErrorKind.CORRUPT, f"{job.part.path}: the server sent more than the "
                                                 f"{human_bytes(job.part.size)} it lists; nothing past that was "
                                                 "written and the download was stopped")

    @staticmethod
    def _write(job: FileJob, view: memoryview, n: int, cursor: _Cursor) -> None:
        job.sink.write_at(view[:n], cursor.at)
        job.tracker.complete(cursor.at, cursor.at + n)  # only once the bytes are in the file
        cursor.at += n

    def _again(self, failures: int, part: HubFile, exc: BaseException | None) -> int:
        failures += 1
        if failures > MAX_RETRIES:
            if exc is None:
                raise HubError(HubErrorKind.NETWORK, f"the Hub kept closing the connection while sending {part.path}")
            raise HubError(HubErrorKind.NETWORK, f"the connection dropped while downloading {part.path} "
                                                 f"({type(exc).__name__}); resume it later") from exc
        self.sleep(self.retry_backoff * 2 ** (failures - 1))
        return failures

    def _wait_for_server(self, seconds: float, meter: DownloadMeter) -> None:
        """Wait as the server asked (already capped), reporting the seconds left about every second."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            meter.waiting(left)
            self.sleep(min(1.0, left))
        meter.waiting(0.0)

    # ------------------------------------------------------------ what stop must be able to end

    def _hold(self, item: Live, held: list[Live]) -> None:
        """Keep `item` (a connection before its request, then its response) where `stop` can end it."""
        held.append(item)
        with self._lock:
            self._live[id(item)] = item
        if self.stopped.is_set():
            item.interrupt() if isinstance(item, Fetched) else interrupt(item)

    def _release(self, held: list[Live]) -> None:
        with self._lock:
            for item in held:
                self._live.pop(id(item), None)
