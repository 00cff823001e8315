"""The conversation database's schema as this build writes it, and its version number.

The version is kept in SQLite's `PRAGMA user_version`. A new database is made from `SCHEMA`
and stamped `VERSION`; an older one is brought here one step at a time by migrations.py.
Changing the schema: add a step there, bump `VERSION`, change `SCHEMA` to match, and add a
database made by the release before to tests/store/shipped/ (see the README there).
"""

from __future__ import annotations

VERSION = 5

SCHEMA = """
CREATE TABLE chats (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    model_path    TEXT NOT NULL DEFAULT '',
    sampling      TEXT NOT NULL DEFAULT '{}',
    overflow      TEXT NOT NULL DEFAULT 'truncate_middle',
    created       REAL NOT NULL,
    updated       REAL NOT NULL,
    thinking      TEXT NOT NULL DEFAULT 'default',
    comparison_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
    id        INTEGER PRIMARY KEY,
    chat_id   INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    role      TEXT NOT NULL,
    model     TEXT NOT NULL DEFAULT '',
    sampling  TEXT NOT NULL DEFAULT '{}',
    stats     TEXT NOT NULL DEFAULT '{}',
    complete  INTEGER NOT NULL DEFAULT 1,
    error     TEXT NOT NULL DEFAULT '',
    created   REAL NOT NULL,
    parent_id INTEGER,
    chosen    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX messages_by_chat ON messages(chat_id, position);
CREATE TABLE comparisons (
    id       INTEGER PRIMARY KEY,
    title    TEXT NOT NULL,
    columns  TEXT NOT NULL DEFAULT '[]',
    run_mode TEXT NOT NULL DEFAULT 'auto',
    created  REAL NOT NULL,
    updated  REAL NOT NULL
);
CREATE TABLE message_parts (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;
"""
