"""Disks that fail: a store whose writes raise "disk full", a small tmpfs, a read-only folder."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import ConversationStore

WRITE_METHODS = ("create_chat", "add_message", "update_message", "update_chat", "delete_messages_from", "delete_chat",
                 "select_alternative", "create_comparison", "update_comparison", "delete_comparison")


class FullDisk:
    """Make a store's writes raise SQLite's "database or disk is full" until `free()`."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        self.attempts = 0

    def _raise(self, *_args, **_kwargs):
        self.attempts += 1
        raise sqlite3.OperationalError("database or disk is full")

    def fill(self) -> None:
        for name in WRITE_METHODS:
            setattr(self.store, name, self._raise)

    def free(self) -> None:
        for name in WRITE_METHODS:
            self.store.__dict__.pop(name, None)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "2m") -> Iterator[Path]:
    """A real, small file system at `path` (needs root and mount; skips otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)):
        pytest.skip("a tmpfs needs root and mount")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill_up(folder: Path) -> Path:
    """Write a file until the file system is full; delete it to free the space."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    return filler


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` made read-only for this process: chmod for a user, a read-only bind mount for root."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(mode)
        return
    if not _mount("--bind", str(path), str(path)):
        pytest.skip("a read-only folder for root needs mount")
    try:
        if not _mount("-o", "remount,ro,bind", str(path)):
            pytest.skip("could not remount read-only")
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
