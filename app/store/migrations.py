"""Bringing a database made by an earlier Hearth up to schema.VERSION, one step per version.

Versions (each made by a release of this repository; tests/store/shipped/ holds one of each):
  1  chats and messages (the first release)
  2  messages keep their reasoning, chats their Thinking switch
  3  messages form a tree: parent_id and chosen (a chat was a list before)
  4  saved comparisons, and chats that belong to one (comparison_id)
  5  a message's content is a list of typed parts in message_parts (text, thinking, image, ...);
     messages.content and messages.reasoning are moved there and dropped

Databases before version 5 were not stamped (user_version 0): their version is read from the
tables and columns they have. Every step runs in one transaction with the new stamp, so a
failure leaves the file as it was. A file stamped newer than this build knows is refused
(NewerDatabaseError), never changed: an older Hearth must not undo what a newer one wrote.
Steps are written out in full SQL, not with today's helpers, so they stay what they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from app.store.schema import SCHEMA, VERSION


class NewerDatabaseError(Exception):
    """The file's schema is newer than this build knows."""

    def __init__(self, found: int) -> None:
        self.found = found
        super().__init__(f"schema version {found}; this Hearth knows up to {VERSION}")


def version_of(db: sqlite3.Connection) -> int:
    """The schema version of an open database: 0 for an empty one."""
    stamped = int(db.execute("PRAGMA user_version").fetchone()[0])
    return stamped or _unstamped_version(db)


def _unstamped_version(db: sqlite3.Connection) -> int:
    """Before version 5 nothing was stamped: what a database holds tells which release made it."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "chats" not in tables:
        return 0
    messages = _columns(db, "messages")
    if "comparisons" in tables and "comparison_id" in _columns(db, "chats"):
        return 4
    if "parent_id" in messages:
        return 3
    if "reasoning" in messages:
        return 2
    return 1


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _add_missing(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE for the columns not there yet (a half-upgraded file is finished, not failed)."""
    present = _columns(db, table)
    for name, declaration in columns.items():
        if name not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def _to_2(db: sqlite3.Connection) -> None:
    _add_missing(db, "chats", {"thinking": "TEXT NOT NULL DEFAULT 'default'"})
    _add_missing(db, "messages", {"reasoning": "TEXT NOT NULL DEFAULT ''"})


def _to_3(db: sqlite3.Connection) -> None:
    _add_missing(db, "messages", {"parent_id": "INTEGER", "chosen": "INTEGER NOT NULL DEFAULT 1"})
    # A chat was a list: each message follows the one at the position before it.
    db.execute("UPDATE messages SET parent_id = (SELECT p.id FROM messages p WHERE p.chat_id = messages.chat_id"
               " AND p.position = messages.position - 1) WHERE position > 0 AND parent_id IS NULL")


def _to_4(db: sqlite3.Connection) -> None:
    _add_missing(db, "chats", {"comparison_id": "INTEGER NOT NULL DEFAULT 0"})
    db.execute("""CREATE TABLE IF NOT EXISTS comparisons (
        id       INTEGER PRIMARY KEY,
        title    TEXT NOT NULL,
        columns  TEXT NOT NULL DEFAULT '[]',
        run_mode TEXT NOT NULL DEFAULT 'auto',
        created  REAL NOT NULL,
        updated  REAL NOT NULL
    )""")


def _to_5(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE message_parts (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        data       TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (message_id, seq)
    ) WITHOUT ROWID""")
    # A message's thinking first, then its text (always one, even empty): app.chat.message.text_parts.
    db.execute("INSERT INTO message_parts(message_id, seq, kind, data)"
               " SELECT id, 0, 'thinking', json_object('text', reasoning) FROM messages WHERE reasoning != ''")
    db.execute("INSERT INTO message_parts(message_id, seq, kind, data)"
               " SELECT id, CASE WHEN reasoning != '' THEN 1 ELSE 0 END, 'text', json_object('text', content)"
               " FROM messages")
    # Dropped, not kept beside the parts: a second copy would go stale with the first write of a part.
    db.execute("ALTER TABLE messages DROP COLUMN content")
    db.execute("ALTER TABLE messages DROP COLUMN reasoning")


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {2: _to_2, 3: _to_3, 4: _to_4, 5: _to_5}


def migrate(db: sqlite3.Connection) -> int:
    """Create or upgrade the schema in place (one transaction); the version it had. Raises NewerDatabaseError."""
    found = version_of(db)
    if found > VERSION:
        raise NewerDatabaseError(found)
    if found == VERSION:
        return found
    db.execute("BEGIN IMMEDIATE")
    try:
        if found == 0:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        else:
            for version in range(found + 1, VERSION + 1):
                STEPS[version](db)
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found
