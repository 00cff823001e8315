"""The library index: every model file's header facts, kept on disk between runs.

Keyed by path, with the size and modification time of every shard as the
signature, so a rescan reads only new or changed files. Broken files are kept
too, with their problem, so they are not read again each scan. SQLite in WAL
mode lets two Hearth processes scan at once without corrupting it; when it
cannot be opened (a read-only or damaged data folder) an in-memory index
stands in and the scan still works.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from app.library.gguf_info import GGUFInfo, split_shards

INDEX_VERSION = 3  # bump when GGUFInfo or the reader changes what it reports: old entries are dropped
_TUPLE_FIELDS = {f.name for f in fields(GGUFInfo) if str(f.type).startswith("tuple")}
_FIELD_NAMES = {f.name for f in fields(GGUFInfo)}

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    path TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    signature TEXT NOT NULL,
    info TEXT,
    problem TEXT NOT NULL DEFAULT ''
);
"""


def signature(path: Path) -> str:
    """Size and mtime of every shard: any change to any part makes a new signature."""
    parts = []
    for shard in split_shards(path):
        try:
            st = shard.stat()
        except OSError:
            parts.append("missing")
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def info_to_json(info: GGUFInfo) -> str:
    return json.dumps(asdict(info))


def info_from_json(text: str) -> GGUFInfo | None:
    try:
        raw = json.loads(text)
        values: dict[str, Any] = {k: (tuple(v) if k in _TUPLE_FIELDS else v)
                                  for k, v in raw.items() if k in _FIELD_NAMES}
        return GGUFInfo(**values)
    except (TypeError, ValueError):
        return None



def connect_wal(path: Path) -> sqlite3.Connection:
    """The library's index database at `path` (its folder made), in WAL mode for readers beside the writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    return db

class LibraryIndex:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        opened = self._open(path) if path is not None else None
        self.persistent = opened is not None
        if opened is None:
            opened = sqlite3.connect(":memory:")
            opened.executescript(SCHEMA)
        self.db: sqlite3.Connection = opened

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection | None:
        try:
            db = connect_wal(path)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != INDEX_VERSION:
                db.execute("DROP TABLE IF EXISTS entries")
                db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
            db.executescript(SCHEMA)
            return db
        except (OSError, sqlite3.Error):
            return None  # read-only or damaged: an in-memory index stands in

    def close(self) -> None:
        self.db.close()

    def lookup(self, path: Path, sig: str) -> tuple[GGUFInfo | None, str] | None:
        """(info, problem) when the file is unchanged since it was indexed, else None."""
        row = self._query("SELECT signature, info, problem FROM entries WHERE path = ?", (str(path),))
        if not row or row[0][0] != sig:
            return None
        _, info_text, problem = row[0]
        info = info_from_json(info_text) if info_text else None
        if info_text and info is None:
            return None  # an entry from an older Hearth: read the file again
        return info, problem

    def store(self, path: Path, source: str, sig: str, info: GGUFInfo | None, problem: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO entries(path, source, signature, info, problem) VALUES (?, ?, ?, ?, ?)",
            (str(path), source, sig, info_to_json(info) if info else None, problem),
        )

    def keep_only(self, kept: set[str]) -> None:
        """Forget files that were not found by the last scan."""
        for (path,) in self._query("SELECT path FROM entries", ()):
            if path not in kept:
                self._write("DELETE FROM entries WHERE path = ?", (path,))

    def entries(self) -> list[tuple[Path, str, GGUFInfo | None, str]]:
        """The last known list, in path order, without touching any model file."""
        rows = self._query("SELECT path, source, info, problem FROM entries ORDER BY path", ())
        return [(Path(p), source, info_from_json(info) if info else None, problem) for p, source, info, problem in rows]

    def _query(self, sql: str, args: tuple) -> list[tuple]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error:
            return []

    def _write(self, sql: str, args: tuple) -> None:
        try:
            self.db.execute(sql, args)
        except sqlite3.Error:
            pass  # a full or read-only disk: the scan result is still returned, only not remembered
