"""A chat's messages read from their two tables: one query for the messages, one for all their parts."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from app.chat.message import Message, Part, part_from_row, part_to_row


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:  # a damaged cell: the message still opens
        return {}
    return value if isinstance(value, dict) else {}


def message_from_row(row: sqlite3.Row, parts: Sequence[Part] = ()) -> Message:
    return Message(row["id"], row["chat_id"], row["position"], row["role"], tuple(parts), row["model"],
                   _json_object(row["sampling"]), _json_object(row["stats"]), bool(row["complete"]), row["error"],
                   row["created"], row["parent_id"], bool(row["chosen"]))


def read_messages(db: sqlite3.Connection, chat_id: int) -> list[Message]:
    """Every message of the chat, every branch, oldest first, with its parts."""
    rows = db.execute("SELECT * FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)).fetchall()
    parts: dict[int, list[Part]] = defaultdict(list)
    for message_id, kind, data in db.execute(
            "SELECT p.message_id, p.kind, p.data FROM message_parts p JOIN messages m ON m.id = p.message_id"
            " WHERE m.chat_id = ? ORDER BY p.message_id, p.seq", (chat_id,)):
        parts[message_id].append(part_from_row(kind, data))
    return [message_from_row(row, parts.get(row["id"], ())) for row in rows]


def read_skeleton(db: sqlite3.Connection, chat_id: int, parent_id: int | None = None,
                  whole: bool = True) -> list[Message]:
    """The chat's tree without parts (where a new message goes needs no text): the whole tree,
    or only the parent `parent_id` and the messages that follow it."""
    if whole:
        rows = db.execute("SELECT * FROM messages WHERE chat_id = ?", (chat_id,)).fetchall()
    else:
        rows = db.execute("SELECT * FROM messages WHERE chat_id = ? AND (id IS ? OR parent_id IS ?)",
                          (chat_id, parent_id, parent_id)).fetchall()
    return [message_from_row(row) for row in rows]


def write_parts(db: sqlite3.Connection, message_id: int, parts: Sequence[Part]) -> None:
    """Replace a message's parts (inside the caller's transaction)."""
    db.execute("DELETE FROM message_parts WHERE message_id = ?", (message_id,))
    db.executemany("INSERT INTO message_parts(message_id, seq, kind, data) VALUES (?, ?, ?, ?)",
                   [(message_id, seq, *part_to_row(part)) for seq, part in enumerate(parts)])


def read_parts(db: sqlite3.Connection, message_id: int) -> tuple[Part, ...]:
    return tuple(part_from_row(kind, data) for kind, data in db.execute(
        "SELECT kind, data FROM message_parts WHERE message_id = ? ORDER BY seq", (message_id,)))
