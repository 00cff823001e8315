"""Saved comparisons: the Compare view's columns, each with its own conversation (a chat row
whose comparison_id names the comparison, so it stays out of the chat list).

`ComparisonTable` is the part of ConversationStore that reads and writes the comparisons table;
the GUI writes through the one writer (store/pending_writes.py), never here.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

RUN_MODES = ("auto", "one_at_a_time", "together")


@dataclass
class ColumnRecord:
    """One column: its conversation and what runs it."""

    chat_id: int
    model_path: str = ""
    load: dict[str, Any] = field(default_factory=dict)  # LoadOptions fields other than the path
    sampling: dict[str, Any] = field(default_factory=dict)  # SamplingParams.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "model_path": self.model_path, "load": self.load, "sampling": self.sampling}

    @classmethod
    def from_dict(cls, data: Any) -> ColumnRecord | None:
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


def columns_json(columns: list[ColumnRecord]) -> str:
    return json.dumps([c.to_dict() for c in columns])


class ComparisonTable:
    """Every call commits at once (or with the transaction around it)."""

    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # ConversationStore's

    def create_comparison(self, title: str = "New comparison", run_mode: str = "auto",
                          comparison_id: int | None = None, created: float | None = None) -> ComparisonRecord:
        now = created or time.time()
        cur = self.db.execute("INSERT INTO comparisons(id, title, columns, run_mode, created, updated)"
                              " VALUES (?, ?, '[]', ?, ?, ?)", (comparison_id, title, _mode(run_mode), now, now))
        record = self.comparison(cur.lastrowid or 0)
        assert record is not None
        return record

    def last_comparison_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM comparisons").fetchone()[0])

    def update_comparison(self, comparison_id: int, *, title: str | None = None, run_mode: str | None = None,
                          columns: list[ColumnRecord] | None = None, touch: bool = False) -> None:
        """`title` and `columns` (and `touch`) make it the newest; a run mode alone does not."""
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = title
        if run_mode is not None:
            values["run_mode"] = _mode(run_mode)
        if columns is not None:
            values["columns"] = columns_json(columns)
        if title is not None or columns is not None or touch:
            values["updated"] = time.time()
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)
            self.db.execute(f"UPDATE comparisons SET {sets} WHERE id = ?", (*values.values(), comparison_id))

    def delete_comparison(self, comparison_id: int) -> None:
        """The comparison and its columns' conversations."""
        with self.transaction():
            self.db.execute("DELETE FROM chats WHERE comparison_id = ?", (comparison_id,))
            self.db.execute("DELETE FROM comparisons WHERE id = ?", (comparison_id,))

    def comparison(self, comparison_id: int) -> ComparisonRecord | None:
        row = self.db.execute("SELECT * FROM comparisons WHERE id = ?", (comparison_id,)).fetchone()
        return comparison_from_row(row) if row else None

    def comparisons(self) -> list[ComparisonRecord]:
        """Newest first."""
        return [comparison_from_row(r) for r in self.db.execute("SELECT * FROM comparisons ORDER BY updated DESC")]


def _mode(run_mode: str) -> str:
    return run_mode if run_mode in RUN_MODES else "auto"


def comparison_from_row(row: sqlite3.Row) -> ComparisonRecord:
    try:
        raw = json.loads(row["columns"] or "[]")
    except json.JSONDecodeError:  # a damaged row: the comparison opens with no columns rather than not at all
        raw = []
    columns = [c for c in map(ColumnRecord.from_dict, raw if isinstance(raw, list) else []) if c is not None]
    return ComparisonRecord(row["id"], row["title"], columns, _mode(row["run_mode"]), row["created"], row["updated"])
