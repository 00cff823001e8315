"""Chats and their messages in SQLite (WAL).

Every call commits at once, so a completed message is on disk when the call
returns and a crash loses at most what the caller had not yet written.
Used from one thread (the GUI's), like Anki's single collection writer.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from app.store import branches
from app.store.records import ChatRecord, MessageRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
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
CREATE TABLE IF NOT EXISTS messages (
    id        INTEGER PRIMARY KEY,
    chat_id   INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    role      TEXT NOT NULL,
    content   TEXT NOT NULL,
    model     TEXT NOT NULL DEFAULT '',
    sampling  TEXT NOT NULL DEFAULT '{}',
    stats     TEXT NOT NULL DEFAULT '{}',
    complete  INTEGER NOT NULL DEFAULT 1,
    error     TEXT NOT NULL DEFAULT '',
    created   REAL NOT NULL,
    reasoning TEXT NOT NULL DEFAULT '',
    parent_id INTEGER,
    chosen    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS messages_by_chat ON messages(chat_id, position);
CREATE TABLE IF NOT EXISTS comparisons (
    id       INTEGER PRIMARY KEY,
    title    TEXT NOT NULL,
    columns  TEXT NOT NULL DEFAULT '[]',
    run_mode TEXT NOT NULL DEFAULT 'auto',
    created  REAL NOT NULL,
    updated  REAL NOT NULL
);
"""

# Columns added after the first release: databases made before them get them on open.
ADDED_COLUMNS = {
    "chats": {
        "thinking": "TEXT NOT NULL DEFAULT 'default'",  # the chat's Thinking switch
        "comparison_id": "INTEGER NOT NULL DEFAULT 0",  # a Compare column's conversation (not in the chat list)
    },
    "messages": {
        "reasoning": "TEXT NOT NULL DEFAULT ''",  # an assistant reply's thinking
        "parent_id": "INTEGER",  # the message this one answers or follows (NULL: the first)
        "chosen": "INTEGER NOT NULL DEFAULT 1",  # the alternative shown among its siblings
    },
}
# Before branching a chat was a list: each message follows the one at the position before it.
LINK_LIST = ("UPDATE messages SET parent_id = (SELECT p.id FROM messages p WHERE p.chat_id = messages.chat_id"
             " AND p.position = messages.position - 1) WHERE position > 0")
LATEST = -1  # add_message's default parent: the last message of the conversation on screen


class ConversationStore:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        """Open (or create) the database; `read_only` opens what is there and writes nothing,
        not even SQLite's side files (for a damaged file or a folder Hearth cannot write to)."""
        self.path = path
        self.read_only = read_only
        if read_only:
            uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("SELECT COUNT(*) FROM chats").fetchone()  # fails here if nothing can be read
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
            if "parent_id" in self._add_missing_columns():
                self.db.execute(LINK_LIST)
        except BaseException:
            self.db.close()
            raise

    def _add_missing_columns(self) -> set[str]:
        added = set()
        for table, columns in ADDED_COLUMNS.items():
            present = {row["name"] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns.items():
                if name not in present:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
                    added.add(name)
        return added

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ chats

    def create_chat(self, title: str = "New chat", system_prompt: str = "", model_path: str = "",
                    sampling: dict | None = None, overflow: str = "truncate_middle",
                    thinking: str = "default", chat_id: int | None = None, comparison_id: int = 0) -> ChatRecord:
        """A new chat; `chat_id` (above every id in use) lets a caller name it before it is written.

        A chat with a `comparison_id` is a Compare column's conversation: it is not in `chats()`."""
        now = time.time()
        cur = self.db.execute(
            "INSERT INTO chats(id, title, system_prompt, model_path, sampling, overflow, created, updated, thinking,"
            " comparison_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (chat_id, title, system_prompt, model_path, json.dumps(sampling or {}), overflow, now, now, thinking,
             comparison_id),
        )
        return self.chat(cur.lastrowid)

    def last_chat_id(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM chats").fetchone()[0]

    def chat(self, chat_id: int) -> ChatRecord | None:
        row = self.db.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return self._chat(row) if row else None

    @staticmethod
    def _chat(row: sqlite3.Row) -> ChatRecord:
        return ChatRecord(row["id"], row["title"], row["system_prompt"], row["model_path"],
                          json.loads(row["sampling"] or "{}"), row["overflow"], row["created"], row["updated"],
                          row["thinking"], row["comparison_id"])

    def chats(self, search: str = "") -> list[ChatRecord]:
        """Newest first, Compare columns left out; `search` matches the title or any message text."""
        if search:
            like = f"%{search}%"
            rows = self.db.execute(
                "SELECT * FROM chats WHERE comparison_id = 0 AND (title LIKE ? OR id IN "
                "(SELECT chat_id FROM messages WHERE content LIKE ?)) ORDER BY updated DESC",
                (like, like),
            ).fetchall()
        else:
            rows = self.db.execute("SELECT * FROM chats WHERE comparison_id = 0 ORDER BY updated DESC").fetchall()
        return [self._chat(r) for r in rows]

    def update_chat(self, chat_id: int, **values) -> None:
        allowed = {"title", "system_prompt", "model_path", "sampling", "overflow", "thinking"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown chat fields: {sorted(unknown)}")
        if "sampling" in values:
            values["sampling"] = json.dumps(values["sampling"])
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE chats SET {sets}, updated = ? WHERE id = ?", (*values.values(), time.time(), chat_id))

    def delete_chat(self, chat_id: int) -> None:
        self.db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    # ------------------------------------------------------------ messages

    def messages(self, chat_id: int) -> list[MessageRecord]:
        """The conversation on screen: from the first message, the chosen alternative at each turn."""
        return branches.shown_path(self.all_messages(chat_id))

    def all_messages(self, chat_id: int) -> list[MessageRecord]:
        """Every message of the chat, every branch, oldest first (alternative counts not filled in)."""
        rows = self.db.execute("SELECT * FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)).fetchall()
        return [
            MessageRecord(r["id"], r["chat_id"], r["position"], r["role"], r["content"], r["model"],
                          json.loads(r["sampling"]), json.loads(r["stats"]), bool(r["complete"]), r["error"],
                          r["created"], r["reasoning"], r["parent_id"], bool(r["chosen"]))
            for r in rows
        ]

    def alternatives(self, message_id: int) -> list[MessageRecord]:
        """The message and its siblings (other answers to the same turn), oldest first."""
        row = self.db.execute("SELECT chat_id, parent_id FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            return []
        return [m for m in self.all_messages(row["chat_id"]) if m.parent_id == row["parent_id"]]

    def select_alternative(self, message_id: int) -> None:
        """Show this alternative at its turn; the conversation continues from it."""
        with self.db:
            self.db.execute("BEGIN")
            row = self.db.execute("SELECT chat_id, parent_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                return
            self.db.execute("UPDATE messages SET chosen = (id = ?) WHERE chat_id = ? AND parent_id IS ?",
                            (message_id, row["chat_id"], row["parent_id"]))

    def last_message_id(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]

    def add_message(self, chat_id: int, role: str, content: str, *, model: str = "", sampling: dict | None = None,
                    stats: dict | None = None, complete: bool = True, error: str = "",
                    reasoning: str = "", message_id: int | None = None,
                    parent_id: int | None = LATEST) -> MessageRecord:
        """Add a message after `parent_id` (by default the last one on screen; None: a new first message).

        It becomes the shown alternative at its turn; its siblings stay, reachable.
        `message_id` (above every id in use) lets a caller name it before it is written.
        """
        now = time.time()
        with self.db:  # one transaction: parent, position and insert together
            self.db.execute("BEGIN")
            if parent_id == LATEST:
                shown = self.messages(chat_id)
                parent_id = shown[-1].id if shown else None
            position = 0
            if parent_id is not None:
                parent = self.db.execute("SELECT position FROM messages WHERE id = ? AND chat_id = ?",
                                         (parent_id, chat_id)).fetchone()
                if parent is None:
                    raise ValueError(f"message {parent_id} is not in chat {chat_id}")
                position = parent["position"] + 1
            self.db.execute("UPDATE messages SET chosen = 0 WHERE chat_id = ? AND parent_id IS ?",
                            (chat_id, parent_id))
            cur = self.db.execute(
                "INSERT INTO messages(id, chat_id, position, role, content, model, sampling, stats, complete, error,"
                " created, reasoning, parent_id, chosen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (message_id, chat_id, position, role, content, model, json.dumps(sampling or {}),
                 json.dumps(stats or {}), int(complete), error, now, reasoning, parent_id),
            )
            siblings = self.db.execute("SELECT COUNT(*) FROM messages WHERE chat_id = ? AND parent_id IS ?",
                                       (chat_id, parent_id)).fetchone()[0]
            self.db.execute("UPDATE chats SET updated = ? WHERE id = ?", (now, chat_id))
        return MessageRecord(cur.lastrowid, chat_id, position, role, content, model, sampling or {}, stats or {},
                             complete, error, now, reasoning, parent_id, True, siblings, siblings)

    def update_message(self, message_id: int, *, content: str | None = None, stats: dict | None = None,
                       complete: bool | None = None, error: str | None = None,
                       reasoning: str | None = None, model: str | None = None) -> None:
        values: dict = {}
        if content is not None:
            values["content"] = content
        if model is not None:
            values["model"] = model
        if reasoning is not None:
            values["reasoning"] = reasoning
        if stats is not None:
            values["stats"] = json.dumps(stats)
        if complete is not None:
            values["complete"] = int(complete)
        if error is not None:
            values["error"] = error
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)
            self.db.execute(f"UPDATE messages SET {sets} WHERE id = ?", (*values.values(), message_id))

    def delete_messages_from(self, chat_id: int, position: int) -> None:
        """Delete every message at `position` or later, in every branch."""
        self.db.execute("DELETE FROM messages WHERE chat_id = ? AND position >= ?", (chat_id, position))
