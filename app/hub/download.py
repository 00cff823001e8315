"""Resumable GGUF downloads from the Hub.

Our own ranged GET (URL from hf_hub_url, size and SHA-256 from the file
listing) rather than hf_hub_download, because a download must survive a
cancelled call and an app restart, fetching only the missing bytes. Files are
written as `<name>.part` and renamed only after their size and SHA-256 match.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.formatting import human_bytes
from app.hub.download_meter import DownloadMeter
from app.hub.download_paths import safe_target, target_folder
from app.hub.download_record import DownloadProgress, DownloadRecord, DownloadStatus
from app.hub.download_sink import CHUNK, Sink, SinkError
from app.hub.errors import HubError, HubErrorKind, error_for_status, hub_endpoint, is_offline
from app.hub.http_fetch import fetch, interrupt
from app.hub.quant import HubFile

DISK_MARGIN = 64 << 20
MAX_RETRIES = 5
MAX_RETRY_AFTER = 60.0  # a server's Retry-After is honoured up to this many seconds


class Downloader:
    """Downloads one model (every part of it). `run` blocks; `pause`/`cancel` from any thread."""

    def __init__(self, record: DownloadRecord, token: str | None = None, retry_backoff: float = 1.0,
                 max_retry_after: float | None = None) -> None:
        self.record = record
        self.token = token
        self.retry_backoff = retry_backoff
        self.max_retry_after = MAX_RETRY_AFTER if max_retry_after is None else max_retry_after
        self._stop = threading.Event()
        self._stop_reason = HubErrorKind.CANCELLED  # why the transfer was stopped, once it is
        self._response = None  # the transfer under way, so pause can end a read stuck on a silent server
        self._connection = None  # the request under way (before its headers come), for the same reason
        self.folder = target_folder(record.repo_id)
        self.targets = [safe_target(self.folder, p["path"]) for p in record.parts]

    def pause(self) -> None:
        self._stop_reason = HubErrorKind.PAUSED
        self._stop.set()
        self._interrupt()

    def cancel(self) -> None:
        self._stop_reason = HubErrorKind.CANCELLED
        self._stop.set()
        self._interrupt()

    def _interrupt(self) -> None:
        response, connection = self._response, self._connection
        if response is not None:
            response.interrupt()
        if connection is not None:
            interrupt(connection)  # a server silent before its headers

    def _watch(self, connection) -> None:
        self._connection = connection
        if self._stop.is_set():
            interrupt(connection)

    def missing_bytes(self) -> int:
        total = 0
        for part, target in zip(self.record.parts, self.targets):
            if target.exists():
                continue
            partial = target.with_name(target.name + ".part")
            have = partial.stat().st_size if partial.exists() else 0
            total += max(int(part["size"]) - have, 0)
        return total

    def run(self, on_progress: Callable[[DownloadProgress], None] | None = None) -> Path:
        record = self.record
        if is_offline():
            raise HubError(HubErrorKind.OFFLINE, "Hearth is offline (HF_HUB_OFFLINE is set): downloads are paused.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._discard_oversized_partials()
        need = self.missing_bytes()
        free = shutil.disk_usage(self.folder).free
        if need + DISK_MARGIN > free:
            raise HubError(HubErrorKind.DISK, f"not enough free disk space for {record.name}: it needs {human_bytes(need)} "
                                   f"more, {human_bytes(free)} is free in {self.folder}")
        record.status, record.error = DownloadStatus.DOWNLOADING, ""
        try:
            record.save()
        except OSError as exc:
            raise HubError(HubErrorKind.DISK, f"could not save the download's state: {_why(exc)}") from exc
        meter = DownloadMeter(record.total_bytes, len(self.targets), on_progress)
        meter.done = record.total_bytes - need
        try:
            for index, (part, target) in enumerate(zip(record.parts, self.targets), start=1):
                meter.part = index
                if target.exists() and target.stat().st_size == int(part["size"]):
                    continue
                self._download_part(HubFile(part["path"], int(part["size"]), part.get("sha256", "")), target, meter)
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
        for part, target in zip(self.record.parts, self.targets):
            partial = target.with_name(target.name + ".part")
            if partial.exists() and partial.stat().st_size > int(part["size"]):
                partial.unlink()

    def _remove_partials(self) -> None:
        for target in self.targets:
            target.with_name(target.name + ".part").unlink(missing_ok=True)

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise HubError(self._stop_reason, f"download {self._stop_reason.value}")

    def _download_part(self, part: HubFile, target: Path, meter: DownloadMeter) -> None:
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        url = hf_hub_url(self.record.repo_id, part.path, revision=self.record.revision, endpoint=hub_endpoint())
        partial = target.with_name(target.name + ".part")
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        have = 0
        if partial.exists():
            with partial.open("rb") as handle:  # resume: the hash must cover the bytes we already have
                for block in iter(lambda: handle.read(CHUNK), b""):
                    digest.update(block)
                    have += len(block)
        if have > part.size:
            partial.unlink()
            digest, have = hashlib.sha256(), 0
        failures = 0
        while have < part.size:
            self._check_stop()
            headers = build_hf_headers(token=self.token)
            headers["Accept-Encoding"] = "identity"
            if have:
                headers["Range"] = f"bytes={have}-"
            try:
                with fetch(url, headers, self._watch) as response:
                    self._response = response
                    if self._stop.is_set():
                        response.interrupt()
                    status = response.status
                    if status == 416:  # our partial file is already complete (or the server disagrees)
                        break
                    if status >= 400:
                        retry_after = min(_seconds(response.headers.get("Retry-After", "")), self.max_retry_after)
                        error = error_for_status(status, f"download of {part.path}", retry_after)
                        if error.kind in ("rate_limited", "server") and failures < MAX_RETRIES:
                            failures += 1
                            if error.retry_after:
                                self._wait_for_server(error.retry_after, meter)
                            else:
                                self._sleep(self.retry_backoff * 2 ** (failures - 1))
                            continue
                        raise error
                    if have and status == 200:  # the server ignored Range: start over
                        digest, have = hashlib.sha256(), 0
                        partial.unlink(missing_ok=True)
                    with Sink(partial, digest) as sink:
                        for n in sink.fill_from(response, self._stop, part.size - have):
                            have += n
                            failures = 0
                            meter.advance(n)
                    self._check_stop()
                    if have >= part.size and response.readinto(memoryview(bytearray(1))):
                        raise HubError(HubErrorKind.CORRUPT, f"{part.path}: the server sent more than the "
                                                  f"{human_bytes(part.size)} it lists; nothing past that was "
                                                  "written and the download was stopped")
            except HubError:
                raise
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise HubError(HubErrorKind.DISK, f"the disk is full: {part.path} could not be written "
                                           f"(the partial download is kept and can be resumed)") from exc
                if isinstance(exc, SinkError):
                    raise HubError(HubErrorKind.DISK, f"could not write {partial}: {exc.strerror or exc}") from exc
                failures = self._network_failure(failures, part, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - protocol errors and drops: resume with a Range request
                failures = self._network_failure(failures, part, exc)
                continue
            if have < part.size:
                failures += 1  # the server closed early: try again from where we are
                if failures > MAX_RETRIES:
                    raise HubError(HubErrorKind.NETWORK, f"the Hub kept closing the connection while sending {part.path}")
                self._sleep(self.retry_backoff * 2 ** (failures - 1))
        size = partial.stat().st_size if partial.exists() else 0
        if size != part.size:
            partial.unlink(missing_ok=True)
            raise HubError(HubErrorKind.CORRUPT, f"{part.path}: got {size:,} bytes but the Hub lists {part.size:,}; "
                                      "the partial file was removed, download it again")
        if part.sha256 and digest.hexdigest() != part.sha256.lower():
            partial.unlink(missing_ok=True)
            raise HubError(HubErrorKind.CORRUPT, f"{part.path} does not match the Hub's SHA-256: the file is damaged and "
                                      "was removed; download it again")
        partial.replace(target)

    def _network_failure(self, failures: int, part: HubFile, exc: BaseException) -> int:
        failures += 1
        if failures > MAX_RETRIES:
            raise HubError(HubErrorKind.NETWORK, f"the connection dropped while downloading {part.path} "
                                      f"({type(exc).__name__}); resume it later") from exc
        self._sleep(self.retry_backoff * 2 ** (failures - 1))
        return failures

    def _wait_for_server(self, seconds: float, meter: DownloadMeter) -> None:
        """Wait as the server asked (already capped), reporting the seconds left about every second."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            meter.waiting(left)
            self._sleep(min(1.0, left))
        meter.waiting(0.0)

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            self._check_stop()


def _seconds(header: str) -> float:
    """A Retry-After in seconds (an HTTP date or nonsense counts as no wait)."""
    try:
        return max(float(header), 0.0)
    except ValueError:
        return 0.0


def _why(exc: OSError) -> str:
    return "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
