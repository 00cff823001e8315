"""The partial file a download writes: grown to the file's full size, written at offsets, synced on demand.

Several connections write their ranges into the one `<name>.part` at once, each
with `os.pwrite` at its own offset (no shared file position, no lock). The file
is grown to its final size up front with `ftruncate` (sparse: no bytes are
written for it), so a range can land before the ones ahead of it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from app.clib import libc_function

_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
_SYNC_FILE_RANGE_WRITE = 2  # from <fcntl.h>: start writing the range's dirty pages, do not wait
WRITE_CHUNK = 32 << 10  # bytes per pwrite; see Sink._write


class SinkError(OSError):
    """Writing the partial file failed (as opposed to the network)."""


class Sink:
    """The `.part` file of one download, open for writing at any offset from any thread."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size
        self.fd = -1

    def __enter__(self) -> Sink:
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            if os.fstat(self.fd).st_size != self.size:
                os.ftruncate(self.fd, self.size)
        except OSError as exc:
            if self.fd >= 0:
                os.close(self.fd)
            raise SinkError(exc.errno or 0, exc.strerror or str(exc)) from exc
        return self

    def write_at(self, data: memoryview, offset: int) -> None:
        """Write all of `data` at `offset`; a failure is a SinkError (the disk, not the network)."""
        try:
            self._write(data, offset)
        except OSError as exc:
            raise SinkError(exc.errno or 0, exc.strerror or str(exc)) from exc

    def _write(self, data: memoryview, offset: int) -> None:
        """In 32 KiB pwrites, not one per buffer: with large folios (Linux 6.x) a write's size picks the
        size of the page-cache block it allocates, and on virtual machines that hand idle memory back
        to the host, fresh large blocks are slow to fault in: measured on one, 1 MiB writes into cold
        memory ran at about 340 MiB/s and 16 KiB ones at about 2 GB/s (docs/BENCHMARKS.md)."""
        written, total = 0, len(data)
        while written < total:
            written += os.pwrite(self.fd, data[written:written + WRITE_CHUNK], offset + written)

    def __exit__(self, *exc_info) -> None:
        os.close(self.fd)
        self.fd = -1


def sync_to_disk(path: Path) -> None:
    """Wait until every byte written to `path` so far is on the disk (through a descriptor of its own).

    The descriptor is opened for writing: Windows refuses to flush a read-only handle."""
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        _datasync(fd)
    finally:
        os.close(fd)


@lru_cache(maxsize=1)
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's sync_file_range(2), which Python's os module does not offer; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    return libc_function("sync_file_range", ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)


def start_write_back(fd: int, offset: int, length: int) -> None:
    """Ask the OS to start writing `[offset, offset + length)` of the file to disk now, without waiting.

    Without it the kernel keeps a download's bytes in memory until its own timers or
    limits flush them, and the sync before the rename then waits for all of them at
    once (about 0.1 s per 256 MiB here, seconds on a slow disk). Started early, that
    writing overlaps the download. Linux only; elsewhere, and if the call fails, the
    final sync simply does all the work. Any descriptor of the file will do. When the
    disk's queue is full the call waits for room, so the caller (the hasher) goes at
    the disk's pace; the final sync would have waited for the same writes."""
    function = _sync_file_range()
    if function is not None and length > 0:
        function(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # a failure only means the sync does it later


def sync_folder(folder: Path) -> None:
    """Make a rename inside `folder` durable (POSIX); Windows cannot open a folder for this and needs it less."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise  # some file systems cannot sync a folder: the rename then is as durable as they make it
    finally:
        os.close(fd)
