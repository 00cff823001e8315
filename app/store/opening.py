"""Opening the conversation database at start, and what to do when that fails.

A damaged file is never deleted: it can be set aside (renamed next to itself)
so a fresh database starts, or opened read-only to read what is left.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from app.store.conversations import ConversationStore
from app.store.migrations import NewerDatabaseError

SIDE_FILES = ("-wal", "-shm")


class StoreOpenError(Exception):
    """The database cannot be opened for writing; `damaged` tells a broken file from a folder problem,
    `newer` a file made by a newer Hearth (left as it is: read-only is offered, never a downgrade)."""

    def __init__(self, path: Path, damaged: bool, reason: str, newer: bool = False) -> None:
        self.path = path
        self.damaged = damaged
        self.reason = reason
        self.newer = newer
        if newer:
            message = (f"The chat database {path} was made by a newer Hearth ({reason}). Update Hearth to "
                       "use it, or open it read-only; this version will not change it.")
        elif damaged:
            message = f"The chat database {path} is damaged ({reason})."
        else:
            message = f"Hearth cannot write its chat database {path} ({reason})."
        super().__init__(message)

    @property
    def can_read_only(self) -> bool:
        return self.path.is_file()


def open_store(path: Path) -> ConversationStore:
    """Open for reading and writing, or raise StoreOpenError saying what is wrong."""
    try:
        return ConversationStore(path)
    except NewerDatabaseError as exc:
        raise StoreOpenError(path, False, str(exc), newer=True) from None
    except OSError as exc:
        raise StoreOpenError(path, False, exc.strerror or str(exc)) from None
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "disk is full" in text:
            raise StoreOpenError(path, False, "the disk is full") from None
        if "readonly" in text or "unable to open" in text:
            raise StoreOpenError(path, False, f"{text}; is the folder writable?") from None
        raise StoreOpenError(path, True, text) from None
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        raise StoreOpenError(path, True, str(exc)) from None


def open_read_only(path: Path) -> ConversationStore:
    """What can still be read; raises StoreOpenError when nothing can."""
    try:
        return ConversationStore(path, read_only=True)
    except (OSError, sqlite3.Error) as exc:
        raise StoreOpenError(path, True, f"it cannot be read either: {exc}") from None


def set_aside(path: Path) -> Path:
    """Rename the damaged database (and SQLite's side files) to `<name>.damaged-<time>`; returns the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(target)
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target
