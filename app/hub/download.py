"""Resumable GGUF downloads from the Hub, over several connections at once.

Our own ranged GETs (URL from hf_hub_url, size and SHA-256 from the file
listing) rather than hf_hub_download, because a download must survive a
cancelled call and an app restart, fetching only the missing bytes. A file
larger than one range (64 MiB) starts on one connection, tries up to 4, and
keeps them only while they are faster together than the one alone, each range
written at its offset in `<name>.part` (`download_connections.py`). The record
lists which ranges are on disk (`download_checkpoint.py`); SHA-256 is computed
by reading the file back as its complete prefix grows (`download_hash.py`).
The file is renamed only after its size and SHA-256 match.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.formatting import human_bytes
from app.hub.download_checkpoint import Checkpoints
from app.hub.download_connections import Connections, FileJob
from app.hub.download_hash import PrefixHasher
from app.hub.download_meter import DownloadMeter
from app.hub.download_paths import safe_target, target_folder
from app.hub.download_ranges import Interval, RangeTracker, clipped, covered
from app.hub.download_record import DownloadProgress, DownloadRecord, DownloadStatus, saved_record
from app.hub.download_sink import Sink, SinkError, sync_folder, sync_to_disk
from app.hub.errors import HubError, HubErrorKind, hub_endpoint, is_offline
from app.hub.quant import HubFile

log = logging.getLogger(__name__)
DISK_MARGIN = 64 << 20
MAX_RETRY_AFTER = 60.0  # a server's Retry-After is honoured up to this many seconds
CONNECTIONS = 4  # at most this many per file, kept while they help (HEARTH_DOWNLOAD_CONNECTIONS fixes it, 1-16)
RANGE_SIZE = 64 << 20  # what one connection asks for at a time; a file this size or smaller uses one connection
CHECKPOINT_SECONDS = 2.0  # how often the record is brought up to date (after syncing the file)
FINAL_SYNC_SECONDS = 0.5  # on pause, how long the last sync may take before the record keeps the previous list


class Downloader:
    """Downloads one model (every part of it). `run` blocks; `pause`/`cancel` from any thread."""

    def __init__(self, record: DownloadRecord, token: str | None = None, retry_backoff: float = 1.0,
                 max_retry_after: float | None = None, connections: int | None = None,
                 range_size: int = RANGE_SIZE, checkpoint_seconds: float = CHECKPOINT_SECONDS,
                 hash_while_downloading: bool = True) -> None:
        self.record = record
        self.token = token
        self.range_size = range_size
        self.checkpoint_seconds = checkpoint_seconds
        self.hash_while_downloading = hash_while_downloading
        max_retry_after = MAX_RETRY_AFTER if max_retry_after is None else max_retry_after
        adaptive = connections is None and not fixed_connections()
        self._connections = Connections(connections or default_connections(), retry_backoff, max_retry_after,
                                        adaptive=adaptive)
        self._tracker: RangeTracker | None = None
        self.folder = target_folder(record.repo_id)
        self.targets = [safe_target(self.folder, p["path"]) for p in record.parts]
        self._adopt_saved_progress()

    @property
    def connections_used(self) -> tuple[int, int]:
        """How many connections the last file opened, and how many of them it kept to the end ((0, 0) before any)."""
        return self._connections.used, self._connections.kept

    def pause(self) -> None:
        self._stop(HubErrorKind.PAUSED)

    def cancel(self) -> None:
        self._stop(HubErrorKind.CANCELLED)

    def _stop(self, reason: HubErrorKind) -> None:
        self._connections.stop(reason)
        tracker = self._tracker
        if tracker is not None:
            tracker.wake()  # the hasher stops waiting for bytes

    def _adopt_saved_progress(self) -> None:
        """A new record for a download that has a saved one (Download pressed again) takes over its ranges."""
        if any("done" in p for p in self.record.parts):
            return
        saved = saved_record(self.record.key)
        if saved is None or [(p["path"], int(p["size"])) for p in saved.parts] != \
                [(p["path"], int(p["size"])) for p in self.record.parts]:
            return
        for mine, theirs in zip(self.record.parts, saved.parts):
            if "done" in theirs:
                mine["done"] = theirs["done"]

    def _partial(self, index: int) -> Path:
        target = self.targets[index]
        return target.with_name(target.name + ".part")

    def _done_of(self, index: int) -> list[Interval]:
        """The ranges of a part already on disk, by its record; an old record's `.part` is one prefix."""
        part, partial = self.record.parts[index], self._partial(index)
        size = int(part["size"])
        if not partial.exists():
            return []
        if "done" not in part:  # written by an older Hearth: the file held the bytes from 0, in order
            return clipped([(0, partial.stat().st_size)], size)
        try:  # a .part cut shorter than its record (by hand) holds nothing past its end
            return clipped([(int(s), int(e)) for s, e in part["done"]], min(size, partial.stat().st_size))
        except (TypeError, ValueError):
            return []

    def missing_bytes(self) -> int:
        total = 0
        for index, (part, target) in enumerate(zip(self.record.parts, self.targets)):
            if not target.exists():
                total += max(int(part["size"]) - covered(self._done_of(index)), 0)
        return total

    def run(self, on_progress: Callable[[DownloadProgress], None] | None = None) -> Path:
        """Download what is missing; the path of the (first part of the) model. Logged: start, end, failure."""
        record = self.record
        what = f"{record.repo_id} {record.name} ({human_bytes(record.total_bytes)})"
        log.info("download started: %s", what)
        started = time.monotonic()
        try:
            path = self._run(on_progress)
        except HubError as exc:
            if exc.kind in (HubErrorKind.PAUSED, HubErrorKind.CANCELLED):
                log.info("download %s: %s", exc.kind.value, what)
            else:
                log.error("download failed: %s: %s: %s", what, exc.kind.value, exc.message)
            raise
        except Exception:
            log.exception("download failed: %s", what)
            raise
        log.info("download finished: %s in %.1f s, saved as %s", what, time.monotonic() - started, path)
        return path

    def _run(self, on_progress: Callable[[DownloadProgress], None] | None) -> Path:
        record = self.record
        if is_offline():
            raise HubError(HubErrorKind.OFFLINE, "Hearth is offline (HF_HUB_OFFLINE is set): downloads are paused.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._discard_oversized_partials()
        need = self.missing_bytes()
        free = shutil.disk_usage(self.folder).free
        if need + DISK_MARGIN > free:
            raise HubError(HubErrorKind.DISK, f"not enough free disk space for {record.name}: "
                                              f"it needs {human_bytes(need)} more, {human_bytes(free)} is free "
                                              f"in {self.folder}")
        record.status, record.error = DownloadStatus.DOWNLOADING, ""
        for index, part in enumerate(record.parts):  # before any .part is grown: an old one's length is its progress
            part["done"] = [list(interval) for interval in self._done_of(index)]
        try:
            record.save()
        except OSError as exc:
            raise HubError(HubErrorKind.DISK, f"could not save the download's state: {_why(exc)}") from exc
        meter = DownloadMeter(record.total_bytes, len(self.targets), on_progress)
        meter.done = record.total_bytes - need
        try:
            for index, (part, target) in enumerate(zip(record.parts, self.targets)):
                meter.part = index + 1
                if target.exists() and target.stat().st_size == int(part["size"]):
                    continue
                self._download_part(index, meter)
        except HubError as exc:
            if exc.kind == HubErrorKind.CANCELLED:
                self._remove_partials()
                record.forget()
            else:
                record.status = DownloadStatus.PAUSED if exc.kind == HubErrorKind.PAUSED else DownloadStatus.FAILED
                record.error = "" if exc.kind == HubErrorKind.PAUSED else exc.message
                try:
                    record.save()
                except OSError as save_error:  # e.g. the same full disk: report it, never raise twice
                    raise HubError(exc.kind, f"{exc.message} (its progress could not be saved either: "
                                             f"{_why(save_error)})") from exc
            raise
        record.status, record.local_path = DownloadStatus.DONE, str(self.targets[0])
        record.forget()
        return self.targets[0]

    def discard(self) -> None:
        """Forget a download that is not running: its partial files and saved record go."""
        self._remove_partials()
        self.record.forget()

    def _discard_oversized_partials(self) -> None:
        """A .part larger than its file cannot be resumed (a server sent too much once): start it over."""
        for index, part in enumerate(self.record.parts):
            partial = self._partial(index)
            if partial.exists() and partial.stat().st_size > int(part["size"]):
                partial.unlink()
                part["done"] = []

    def _remove_partials(self) -> None:
        for target in self.targets:
            target.with_name(target.name + ".part").unlink(missing_ok=True)

    def _download_part(self, index: int, meter: DownloadMeter) -> None:
        """Fetch the missing ranges of one part over several connections, verify it, rename it."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        spec = self.record.parts[index]
        part = HubFile(spec["path"], int(spec["size"]), spec.get("sha256", ""))
        target, partial = self.targets[index], self._partial(index)
        url = hf_hub_url(self.record.repo_id, part.path, revision=self.record.revision, endpoint=hub_endpoint())
        headers = build_hf_headers(token=self.token)
        headers["Accept-Encoding"] = "identity"
        target.parent.mkdir(parents=True, exist_ok=True)
        tracker = self._tracker = RangeTracker(part.size, self.range_size, self._done_of(index))
        if self._connections.stopped.is_set():
            self._connections.check_stop()
        stopped, halted = self._connections.stopped, threading.Event()
        hasher = PrefixHasher(partial, tracker, lambda: stopped.is_set() or halted.is_set())
        checkpoints = Checkpoints(partial, tracker, lambda done: self._save_done(index, done), self.checkpoint_seconds)
        try:
            sink = Sink(partial, part.size).__enter__()
        except SinkError as exc:
            raise HubError(HubErrorKind.DISK, f"could not create {partial}: {_why(exc)}") from exc
        try:
            checkpoints.start()
            if self.hash_while_downloading:
                hasher.start()
            self._connections.fetch_file(FileJob(url, headers, part, sink, tracker, meter))
            if not self.hash_while_downloading:
                hasher.start()
            digest = hasher.result()
            self._connections.check_stop()  # paused while the last bytes were being hashed
        except OSError as exc:  # reading the file back failed
            raise HubError(HubErrorKind.DISK, f"could not read {partial} back to verify it: {_why(exc)}") from exc
        finally:
            halted.set()  # whatever ended this, the hasher ends too
            tracker.wake()
            sink.__exit__(None, None, None)
            connections = self._connections
            cancelled = connections.failure is None and connections.reason == HubErrorKind.CANCELLED
            checkpoints.finish(final=stopped.is_set() and not cancelled, wait=FINAL_SYNC_SECONDS)
        self._verify(index, part, partial, digest)
        try:
            # the verified bytes reach the disk before the name says the file is complete, and the
            # new name is synced too: after a power cut there is a complete model or a partial one
            sync_to_disk(partial)
            partial.replace(target)
            sync_folder(target.parent)
        except OSError as exc:
            raise HubError(HubErrorKind.DISK, f"could not finish {target.name}: {_why(exc)}") from exc

    def _verify(self, index: int, part: HubFile, partial: Path, digest: str | None) -> None:
        """Size and SHA-256 must match the Hub's; if not, the partial file and its progress are dropped."""
        size = partial.stat().st_size if partial.exists() else 0
        problem = ""
        if size != part.size:
            problem = f"{part.path}: got {size:,} bytes but the Hub lists {part.size:,}"
        elif part.sha256 and digest != part.sha256.lower():
            problem = f"{part.path} does not match the Hub's SHA-256: the file is damaged"
        if problem:
            partial.unlink(missing_ok=True)
            self.record.parts[index]["done"] = []
            raise HubError(HubErrorKind.CORRUPT, f"{problem}; it was removed, download it again")

    def _save_done(self, index: int, done: list[Interval]) -> None:
        """Called by the checkpoint thread once `done` is synced to disk."""
        self.record.parts[index]["done"] = [list(interval) for interval in done]
        self.record.save()


def fixed_connections() -> int | None:
    """HEARTH_DOWNLOAD_CONNECTIONS when it is a number (1-16): every large file uses that many, from the start."""
    value = os.environ.get("HEARTH_DOWNLOAD_CONNECTIONS", "").strip()
    return min(max(int(value), 1), 16) if value.isdigit() else None


def default_connections() -> int:
    """CONNECTIONS (kept only while they beat one), or HEARTH_DOWNLOAD_CONNECTIONS."""
    return fixed_connections() or CONNECTIONS


def _why(exc: OSError) -> str:
    return "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
