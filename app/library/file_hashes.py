"""SHA-256s of model files, remembered in the library index by path, size and modification time.

A hash is taken from where it costs nothing first: the index (a file unchanged since it was
hashed), the Hugging Face cache (a file there is a link to a blob named by its SHA-256), or what
a download verified or an import computed while copying (`remember`). Only then is the file read,
and callers do that off the GUI thread, for files that need it. No Qt.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from app import paths
from app.library.index import connect_wal

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 4 * 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
"""


class HashingCancelled(Exception):
    """Hashing was asked to stop (the app is quitting)."""


def _never() -> bool:
    return False


def hf_blob_sha256(path: Path) -> str:
    """The SHA-256 a Hugging Face cache file carries in its blob's name, or ""."""
    if not path.is_symlink():
        return ""
    try:
        blob = path.resolve()
    except OSError:
        return ""
    name = blob.name.lower()
    return name if blob.parent.name == "blobs" and SHA256_HEX.match(name) else ""


def sha256_of(path: Path, cancelled: Callable[[], bool] = _never) -> str:
    """Read the whole file; `cancelled()` is checked between chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if cancelled():
                raise HashingCancelled()
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """The `file_hashes` table of the library index (an in-memory one when it cannot be opened)."""

    def __init__(self, db_path: Path | None = None) -> None:
        opened = self._open(db_path) if db_path is not None else None
        if opened is None:
            opened = sqlite3.connect(":memory:", isolation_level=None)
            opened.executescript(SCHEMA)
        self.db: sqlite3.Connection = opened

    @classmethod
    def open_default(cls) -> HashCache:
        data = paths.data_dir(create=False)
        return cls(paths.library_index_path(create=False) if data.is_dir() else None)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection | None:
        try:
            db = connect_wal(path)
            db.executescript(SCHEMA)
            return db
        except (OSError, sqlite3.Error):
            return None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def known(self, path: Path) -> str:
        """The SHA-256 of a file unchanged since it was hashed, else ""."""
        try:
            st = path.stat()
            row = self.db.execute("SELECT size, mtime_ns, sha256 FROM file_hashes WHERE path = ?",
                                  (str(path),)).fetchone()
        except (OSError, sqlite3.Error):
            return ""
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        return hf_blob_sha256(path)

    def remember(self, path: Path, sha256: str) -> None:
        """Keep a hash computed elsewhere (a verified download, a copy) for the file as it is now."""
        try:
            st = path.stat()
            self.db.execute("INSERT OR REPLACE INTO file_hashes(path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)",
                            (str(path), st.st_size, st.st_mtime_ns, sha256.lower()))
        except (OSError, sqlite3.Error):
            pass  # a full or read-only disk: the hash is computed again when needed

    def sha256(self, path: Path, cancelled: Callable[[], bool] = _never) -> str:
        """The file's SHA-256, read from disk only when nothing remembers it."""
        known = self.known(path)
        if known:
            return known
        digest = sha256_of(path, cancelled)
        self.remember(path, digest)
        return digest


def remember_hashes(pairs: Iterable[tuple[Path, str]]) -> None:
    """Record hashes already verified (a finished download's parts) in the default index."""
    with HashCache.open_default() as cache:
        for path, sha256 in pairs:
            if SHA256_HEX.match(sha256.lower()):
                cache.remember(path, sha256)

