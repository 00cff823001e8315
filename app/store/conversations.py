"""Chats and their messages in SQLite (WAL); the schema is made or upgraded on open (migrations.py).

Every call commits at once (or with the `transaction()` around it), so a completed message is on
disk when the call returns and a crash loses at most what the caller had not yet written.
Used from one thread (the GUI's), like Anki's single collection writer; the GUI writes through
the one writer (store/pending_writes.py), which announces every change.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.chat.message import Message, Part, text_parts
from app.store import branches, message_rows
from app.store.branches import LATEST
from app.store.comparisons import ComparisonTable
from app.store.images import ImageFiles
from app.store.migrations import NewerDatabaseError, migrate, version_of
from app.store.records import CHAT_FIELDS, ChatRecord
from app.store.schema import VERSION

__all__ = ["LATEST", "ChatRecord", "ConversationStore", "Message"]


class ConversationStore(ComparisonTable):
    def __init__(self, path: Path, read_only: bool = False) -> None:
        """Open (or create) the database; `read_only` opens what is there and writes nothing,
        not even SQLite's side files (for a damaged file, a folder Hearth cannot write to, or a file
        from a newer Hearth). A read-only file from an older Hearth is upgraded in a copy in memory.
        Raises NewerDatabaseError (not read-only) for a file a newer Hearth made."""
        self.path = path
        self.read_only = read_only
        self._depth = 0  # nested transaction() blocks
        self.writer: object = None  # its one PendingWrites, once made (pending_writes.py)
        self.kept_copy: Path | None = None  # the file as an older Hearth left it, when this open upgraded it
        self.images = ImageFiles(path.parent / "images")  # the chats' pictures, beside the database (images.py)
        if read_only:
            self.db = _open_read_only(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            found = version_of(self.db)
            if found > VERSION:  # before anything is set on it: a newer Hearth's file stays as it is
                raise NewerDatabaseError(found)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            if 0 < found < VERSION:
                self.kept_copy = _keep_copy(self.db, path, found)
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction for what runs inside (nested blocks join the outer one); rolled back on error."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    # ------------------------------------------------------------ chats

    def create_chat(self, title: str = "New chat", system_prompt: str = "", model_path: str = "",
                    sampling: dict[str, Any] | None = None, overflow: str = "truncate_middle",
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
        chat = self.chat(cur.lastrowid or 0)
        assert chat is not None
        return chat

    def last_chat_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM chats").fetchone()[0])

    def chat(self, chat_id: int) -> ChatRecord | None:
        row = self.db.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return self._chat(row) if row else None

    @staticmethod
    def _chat(row: sqlite3.Row) -> ChatRecord:
        return ChatRecord(row["id"], row["title"], row["system_prompt"], row["model_path"],
                          message_rows._json_object(row["sampling"]), row["overflow"], row["created"],
                          row["updated"], row["thinking"], row["comparison_id"])

    def chats(self, search: str = "") -> list[ChatRecord]:
        """Newest first, Compare columns left out; `search` matches the title or the text of any message."""
        if search:
            like = f"%{search}%"
            rows = self.db.execute(
                "SELECT * FROM chats WHERE comparison_id = 0 AND (title LIKE ? OR id IN "
                "(SELECT m.chat_id FROM messages m JOIN message_parts p ON p.message_id = m.id"
                " WHERE p.kind = 'text' AND json_extract(p.data, '$.text') LIKE ?)) ORDER BY updated DESC",
                (like, like),
            ).fetchall()
        else:
            rows = self.db.execute("SELECT * FROM chats WHERE comparison_id = 0 ORDER BY updated DESC").fetchall()
        return [self._chat(r) for r in rows]

    def update_chat(self, chat_id: int, **values: Any) -> None:
        unknown = set(values) - CHAT_FIELDS
        if unknown:
            raise ValueError(f"unknown chat fields: {sorted(unknown)}")
        if "sampling" in values:
            values["sampling"] = json.dumps(values["sampling"])
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE chats SET {sets}, updated = ? WHERE id = ?", (*values.values(), time.time(), chat_id))

    def delete_chat(self, chat_id: int) -> None:
        self.db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    def remove_unused_images(self, in_background: bool = False) -> threading.Thread | None:
        """Delete the picture files no message names (after a chat is deleted). The names are read now;
        with `in_background` the folder is scanned on a thread of its own (the GUI never waits on it),
        which leaves files saved meanwhile (ImageFiles.save touches them)."""
        rows = self.db.execute("SELECT data FROM message_parts WHERE kind = 'image'").fetchall()
        used = set()
        for (data,) in rows:
            try:
                used.add(str(json.loads(data).get("sha256")))
            except (ValueError, AttributeError):
                continue
        before = time.time() - 2.0  # (file times are coarse on some file systems)

        def remove() -> None:
            try:
                self.images.remove_unused(used, before if in_background else None)
            except OSError:
                pass  # a picture left on disk is harmless; the next deletion tries again

        if not in_background:
            remove()
            return None
        thread = threading.Thread(target=remove, name="remove-unused-images", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------ messages

    def messages(self, chat_id: int) -> list[Message]:
        """The conversation on screen: from the first message, the chosen alternative at each turn."""
        return branches.shown_path(self.all_messages(chat_id))

    def all_messages(self, chat_id: int) -> list[Message]:
        """Every message of the chat, every branch, oldest first (alternative counts not filled in)."""
        return message_rows.read_messages(self.db, chat_id)

    def chat_of_message(self, message_id: int) -> int:
        """The chat a message is in (0: no such message)."""
        row = self.db.execute("SELECT chat_id FROM messages WHERE id = ?", (message_id,)).fetchone()
        return int(row[0]) if row else 0

    def alternatives(self, message_id: int) -> list[Message]:
        """The message and its siblings (other answers to the same turn), oldest first."""
        chat_id = self.chat_of_message(message_id)
        return branches.siblings(self.all_messages(chat_id), message_id) if chat_id else []

    def select_alternative(self, message_id: int) -> None:
        """Show this alternative at its turn; the conversation continues from it."""
        with self.transaction():
            row = self.db.execute("SELECT chat_id, parent_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is not None:
                before = message_rows.read_skeleton(self.db, row["chat_id"], row["parent_id"], whole=False)
                self._write_choices(before, branches.choose(before, message_id))

    def _write_choices(self, before: list[Message], after: list[Message]) -> None:
        """Write the chosen flags that branches.py changed."""
        was = {m.id: m.chosen for m in before}
        self.db.executemany("UPDATE messages SET chosen = ? WHERE id = ?",
                            [(int(m.chosen), m.id) for m in after if was.get(m.id) != m.chosen])

    def last_message_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0])

    def add_message(self, chat_id: int, role: str, content: str = "", *, parts: Sequence[Part] | None = None,
                    reasoning: str = "", model: str = "", sampling: dict[str, Any] | None = None,
                    stats: dict[str, Any] | None = None, complete: bool = True, error: str = "",
                    message_id: int | None = None, parent_id: int | None = LATEST) -> Message:
        """Add a message after `parent_id` (by default the last one on screen; None: a new first message).

        It holds `parts`, or (a shorthand) the text `content` and the thinking `reasoning`. It becomes the
        shown alternative at its turn; its siblings stay, reachable. `message_id` (above every id in use)
        lets a caller name it before it is written.
        """
        if parts is not None and (content or reasoning):
            raise ValueError("give a message's parts, or its content and reasoning, not both")
        held = tuple(parts) if parts is not None else text_parts(content, reasoning)
        now = time.time()
        with self.transaction():  # parent, position, choices, row and parts together
            tree = message_rows.read_skeleton(self.db, chat_id, parent_id, whole=parent_id == LATEST)
            parent_id, position = branches.placement(tree, parent_id)
            cur = self.db.execute(
                "INSERT INTO messages(id, chat_id, position, role, model, sampling, stats, complete, error,"
                " created, parent_id, chosen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (message_id, chat_id, position, role, model, json.dumps(sampling or {}), json.dumps(stats or {}),
                 int(complete), error, now, parent_id),
            )
            message = Message(cur.lastrowid or 0, chat_id, position, role, held, model, sampling or {}, stats or {},
                              complete, error, now, parent_id, True)
            after = branches.add(tree, message)
            self._write_choices([*tree, message], after)
            message_rows.write_parts(self.db, message.id, held)
            self.db.execute("UPDATE chats SET updated = ? WHERE id = ?", (now, chat_id))
        count = len(branches.siblings(after, message.id))
        return Message(message.id, chat_id, position, role, held, model, sampling or {}, stats or {}, complete,
                       error, now, parent_id, True, count, count)

    def update_message(self, message_id: int, *, content: str | None = None, reasoning: str | None = None,
                       parts: Sequence[Part] | None = None, stats: dict[str, Any] | None = None,
                       complete: bool | None = None, error: str | None = None, model: str | None = None) -> None:
        """Change what is given: `parts` replaces all of them, then `content`/`reasoning` just the
        text/thinking (other parts stay)."""
        values: dict[str, Any] = {}
        if model is not None:
            values["model"] = model
        if stats is not None:
            values["stats"] = json.dumps(stats)
        if complete is not None:
            values["complete"] = int(complete)
        if error is not None:
            values["error"] = error
        with self.transaction():
            if values:
                sets = ", ".join(f"{k} = ?" for k in values)
                self.db.execute(f"UPDATE messages SET {sets} WHERE id = ?", (*values.values(), message_id))
            text = content is not None or reasoning is not None
            if (parts is not None or text) and self.db.execute("SELECT 1 FROM messages WHERE id = ?",
                                                               (message_id,)).fetchone():
                held = tuple(parts) if parts is not None else message_rows.read_parts(self.db, message_id)
                if text:  # the text and thinking replaced, every other part kept in its place
                    held = Message(message_id, 0, 0, "", held).with_text(content, reasoning).parts
                message_rows.write_parts(self.db, message_id, held)

    def delete_messages_from(self, chat_id: int, position: int) -> None:
        """Delete every message at `position` or later, in every branch (their parts go with them)."""
        self.db.execute("DELETE FROM messages WHERE chat_id = ? AND position >= ?", (chat_id, position))


def _keep_copy(db: sqlite3.Connection, path: Path, version: int) -> Path | None:
    """Copy the file aside before upgrading it, so the Hearth that made it can still open it (an upgraded
    file is not readable by an older Hearth). None when the copy cannot be made: the upgrade goes on."""
    target = path.with_name(f"{path.name}.schema-{version}")
    try:
        copy = sqlite3.connect(str(target))
        try:
            db.backup(copy)
        finally:
            copy.close()
    except (OSError, sqlite3.Error):
        target.unlink(missing_ok=True)
        return None
    return target


def _open_read_only(path: Path) -> sqlite3.Connection:
    """The file as it is, never written; an older schema is upgraded in a copy in memory so it reads
    like a new one. A newer schema is read as it is (what this build knows of it)."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    try:
        db.execute("SELECT COUNT(*) FROM chats").fetchone()  # fails here if nothing can be read
        if version_of(db) >= VERSION:
            return db
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        copy.row_factory = sqlite3.Row
        db.backup(copy)
    except BaseException:
        db.close()
        raise
    db.close()
    try:
        migrate(copy)
        copy.execute("PRAGMA query_only = ON")  # a write fails as on the file, so the GUI says nothing is saved
    except BaseException:
        copy.close()
        raise
    return copy
