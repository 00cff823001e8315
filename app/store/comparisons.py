"""Saved comparisons: the Compare view's columns, each with its own conversation (a chat row
whose comparison_id names the comparison, so it stays out of the chat list).

Same database and same rules as conversations.py: every call commits at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from app.store.conversations import ConversationStore

RUN_MODES = ("auto", "one_at_a_time", "together")


@dataclass
class ColumnRecord:
    """One column: its conversation and what runs it."""

    chat_id: int
    model_path: str = ""
    load: dict = field(default_factory=dict)  # LoadOptions fields other than the path
    sampling: dict = field(default_factory=dict)  # SamplingParams.to_dict()

    def to_dict(self) -> dict:
        return {"chat_id": self.chat_id, "model_path": self.model_path, "load": self.load, "sampling": self.sampling}

    @classmethod
    def from_dict(cls, data: dict) -> ColumnRecord | None:
        if not isinstance(data, dict) or not isinstance(data.get("chat_id"), int):
            return None
        return cls(data["chat_id"], str(data.get("model_path") or ""),
                   data["load"] if isinstance(data.get("load"), dict) else {},
                   data["sampling"] if isinstance(data.get("sampling"), dict) else {})


@dataclass
class ComparisonRecord:
    id: int
    title: str
    columns: list[ColumnRecord] = field(default_factory=list)
    run_mode: str = "auto"
    created: float = 0.0
    updated: float = 0.0


class Comparisons:
    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        self.db = store.db

    def create(self, title: str = "New comparison", run_mode: str = "auto") -> ComparisonRecord:
        now = time.time()
        cur = self.db.execute("INSERT INTO comparisons(title, columns, run_mode, created, updated)"
                              " VALUES (?, '[]', ?, ?, ?)", (title, run_mode, now, now))
        return self.get(cur.lastrowid)

    def add_column(self, comparison_id: int, model_path: str = "", load: dict | None = None,
                   sampling: dict | None = None) -> ColumnRecord:
        """A new column with its own (empty) conversation."""
        record = self.get(comparison_id)
        if record is None:
            raise ValueError(f"no comparison {comparison_id}")
        chat = self.store.create_chat(f"{record.title} · column {len(record.columns) + 1}", model_path=model_path,
                                      sampling=sampling or {}, comparison_id=comparison_id)
        column = ColumnRecord(chat.id, model_path, load or {}, sampling or {})
        self.save_columns(comparison_id, record.columns + [column])
        return column

    def save_columns(self, comparison_id: int, columns: list[ColumnRecord]) -> None:
        self.db.execute("UPDATE comparisons SET columns = ?, updated = ? WHERE id = ?",
                        (json.dumps([c.to_dict() for c in columns]), time.time(), comparison_id))

    def remove_column(self, comparison_id: int, chat_id: int) -> None:
        record = self.get(comparison_id)
        if record is not None:
            self.save_columns(comparison_id, [c for c in record.columns if c.chat_id != chat_id])
            self.store.delete_chat(chat_id)

    def update(self, comparison_id: int, *, title: str | None = None, run_mode: str | None = None) -> None:
        if title is not None:
            self.db.execute("UPDATE comparisons SET title = ?, updated = ? WHERE id = ?",
                            (title, time.time(), comparison_id))
        if run_mode is not None:
            self.db.execute("UPDATE comparisons SET run_mode = ? WHERE id = ?",
                            (run_mode if run_mode in RUN_MODES else "auto", comparison_id))

    def touch(self, comparison_id: int) -> None:
        self.db.execute("UPDATE comparisons SET updated = ? WHERE id = ?", (time.time(), comparison_id))

    def get(self, comparison_id: int) -> ComparisonRecord | None:
        row = self.db.execute("SELECT * FROM comparisons WHERE id = ?", (comparison_id,)).fetchone()
        return self._record(row) if row else None

    def all(self) -> list[ComparisonRecord]:
        """Newest first."""
        return [self._record(r) for r in self.db.execute("SELECT * FROM comparisons ORDER BY updated DESC")]

    def delete(self, comparison_id: int) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM chats WHERE comparison_id = ?", (comparison_id,))
            self.db.execute("DELETE FROM comparisons WHERE id = ?", (comparison_id,))

    @staticmethod
    def _record(row) -> ComparisonRecord:
        try:
            raw = json.loads(row["columns"] or "[]")
        except json.JSONDecodeError:  # a damaged row: the comparison opens with no columns rather than not at all
            raw = []
        columns = [c for c in map(ColumnRecord.from_dict, raw if isinstance(raw, list) else []) if c is not None]
        mode = row["run_mode"] if row["run_mode"] in RUN_MODES else "auto"
        return ComparisonRecord(row["id"], row["title"], columns, mode, row["created"], row["updated"])
