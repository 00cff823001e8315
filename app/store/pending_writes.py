"""The one writer: every write to the conversation database goes through here, once per database.

A write is a typed operation (operations.py). It is made at once when nothing is waiting; when it
fails (disk full, read-only file, I/O error) it is kept in memory and retried in order by `retry()`.
Reads show the store as it will be once everything pending is written (each waiting operation
applies its effect with the tree rules of branches.py), so nothing typed or streamed is lost while
the disk is full. Every accepted write is announced on the ChangeHub, and the write returns its
changes (creating returns the record it made). Comparisons and imports are written at once, all or
nothing, and raise when the disk refuses (`write_now`). No Qt: the GUI decides when to retry and
how to show `problem`.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.chat.message import Message, Part, text_parts
from app.store import branches
from app.store.branches import LATEST
from app.store.changes import ChangeHub, Changes
from app.store.comparisons import ColumnRecord, ComparisonRecord
from app.store.conversations import ConversationStore
from app.store.operations import (
    AddMessage,
    CreateChat,
    CreateComparison,
    DeleteChat,
    DeleteComparison,
    DeleteMessagesFrom,
    Operation,
    SelectAlternative,
    UpdateChat,
    UpdateComparison,
    UpdateMessage,
)
from app.store.records import CHAT_FIELDS, ChatRecord

WRITE_ERRORS = (sqlite3.Error, OSError)
DISK_FULL = "Disk full: this chat is not being saved. Free space and press Retry."


def describe_write_error(exc: BaseException) -> str:
    """One plain sentence for a failed write."""
    text = str(exc)
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in text or "disk full" in text:
        return DISK_FULL
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return "The chat database is read-only: this chat is not being saved."
    return f"Could not save this chat ({text}). It is kept here; press Retry."


class PendingWrites:
    def __init__(self, store: ConversationStore, changes: ChangeHub | None = None) -> None:
        """The writer of `store`; there is one per store (`of`), so a second one is refused."""
        if store.writer is not None:
            raise ValueError(f"{store.path} already has its writer: use PendingWrites.of(store)")
        store.writer = self
        self.store = store  # what is on disk (tests read it); nothing but this class writes to it
        self.changes = changes or ChangeHub()  # the app's one hub (application.build_window hands it in)
        self._queue: list[Operation] = []
        self.problem = ""  # why writes are waiting; empty when everything is on disk
        self._listeners: list[Callable[[str], None]] = []  # called with `problem` when it changes
        self._last_message_id = 0  # the last id handed out
        self._last_chat_id = 0
        # the window's writer scans the image folder after a deletion on a thread of its own (the GUI never
        # waits on the disk); the last such scan, for tests to wait on
        self.clean_in_background = False
        self.image_cleanup: threading.Thread | None = None

    @classmethod
    def of(cls, store: ConversationStore | PendingWrites) -> PendingWrites:
        """The one writer of `store` (made on first use): whoever holds the raw store writes through it too."""
        if isinstance(store, PendingWrites):
            return store
        return store.writer if isinstance(store.writer, PendingWrites) else cls(store)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def close(self) -> None:
        self.store.close()

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call `listener(problem)` whenever the problem changes (every view that writes through this queue)."""
        self._listeners.append(listener)

    def unlisten(self, listener: Callable[[str], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def pending(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------ writing

    def submit(self, operation: Operation) -> Changes:
        """Write now if nothing is waiting, else (or if it fails) queue it; announce and return its changes."""
        if not self._queue:
            try:
                operation.apply(self.store)
            except WRITE_ERRORS as exc:
                self._set_problem(describe_write_error(exc))
                self._queue.append(operation)
        else:
            last = self._queue[-1]
            merged = last.then(operation) if isinstance(last, UpdateMessage) and isinstance(
                operation, UpdateMessage) else None
            if merged is not None:  # a streaming reply: keep only its latest text
                self._queue[-1] = merged
            else:
                self._queue.append(operation)
        return self.changes.publish(operation.changes())

    def write_now(self, operations: Sequence[Operation]) -> Changes:
        """Write these at once in one transaction, past the queue; all or nothing. Raises one of
        WRITE_ERRORS (nothing written, nothing announced) when the disk refuses."""
        with self.store.transaction():
            for operation in operations:
                operation.apply(self.store)
        return self.changes.publish(c for operation in operations for c in operation.changes())

    def retry(self) -> bool:
        """Write everything pending, oldest first; True when nothing is left."""
        while self._queue:
            try:
                self._queue[0].apply(self.store)
            except WRITE_ERRORS as exc:
                self._set_problem(describe_write_error(exc))
                return False
            self._queue.pop(0)
        self._set_problem("")
        return True

    def discard(self) -> None:
        """Forget what is pending (the user chose to quit without saving)."""
        self._queue.clear()
        self._set_problem("")

    def _set_problem(self, problem: str) -> None:
        if problem != self.problem:
            self.problem = problem
            for listener in list(self._listeners):
                listener(problem)

    def new_chat_id(self) -> int:
        """An id above every chat id in use or handed out: a write can name its chat before it is written."""
        self._last_chat_id = max(self._last_chat_id, self.store.last_chat_id()) + 1
        return self._last_chat_id

    def new_message_id(self) -> int:
        self._last_message_id = max(self._last_message_id, self.store.last_message_id()) + 1
        return self._last_message_id

    # ------------------------------------------------------------ chats and messages

    def create_chat(self, title: str = "New chat", system_prompt: str = "", model_path: str = "",
                    sampling: dict[str, Any] | None = None, overflow: str = "truncate_middle",
                    thinking: str = "default", comparison_id: int = 0) -> ChatRecord:
        now = time.time()
        chat = ChatRecord(self.new_chat_id(), title, system_prompt, model_path, sampling or {}, overflow, now, now,
                          thinking, comparison_id)
        self.submit(CreateChat(chat))
        return self.chat(chat.id) or chat

    def update_chat(self, chat_id: int, **values: Any) -> Changes:
        unknown = set(values) - CHAT_FIELDS
        if unknown:
            raise ValueError(f"unknown chat fields: {sorted(unknown)}")
        return self.submit(UpdateChat(chat_id, values))

    def delete_chat(self, chat_id: int) -> Changes:
        changes = self.submit(DeleteChat(chat_id))
        if not self._queue:  # written: its pictures that no other message names go too (none wait to be named)
            self.image_cleanup = self.store.remove_unused_images(self.clean_in_background)
        return changes

    def add_message(self, chat_id: int, role: str, content: str = "", *, parts: Sequence[Part] | None = None,
                    reasoning: str = "", model: str = "", sampling: dict[str, Any] | None = None,
                    stats: dict[str, Any] | None = None, complete: bool = True, error: str = "",
                    message_id: int | None = None, parent_id: int | None = LATEST) -> Message:
        """As ConversationStore.add_message; the id is chosen here, so later updates can name a message
        that is not yet on disk, and the parent is found here, in the conversation as it reads now."""
        if parts is not None and (content or reasoning):
            raise ValueError("give a message's parts, or its content and reasoning, not both")
        tree = self.all_messages(chat_id)
        parent, position = branches.placement(tree, parent_id)
        message = Message(message_id or self.new_message_id(), chat_id, position, role,
                          tuple(parts) if parts is not None else text_parts(content, reasoning), model,
                          sampling or {}, stats or {}, complete, error, time.time(), parent, True)
        self.submit(AddMessage(message))
        count = len(branches.siblings(branches.add(tree, message), message.id))
        return Message(message.id, chat_id, position, role, message.parts, model, message.sampling, message.stats,
                       complete, error, message.created, parent, True, count, count)

    def update_message(self, message_id: int, *, content: str | None = None, reasoning: str | None = None,
                       parts: Sequence[Part] | None = None, stats: dict[str, Any] | None = None,
                       complete: bool | None = None, error: str | None = None, model: str | None = None) -> Changes:
        values = {k: v for k, v in (("stats", stats), ("complete", complete), ("error", error), ("model", model))
                  if v is not None}
        return self.submit(UpdateMessage(message_id, content, reasoning, None if parts is None else tuple(parts),
                                         values))

    def select_alternative(self, message_id: int) -> Changes:
        chat_id = self._chat_of(message_id)
        return self.submit(SelectAlternative(chat_id, message_id)) if chat_id else ()

    def delete_messages_from(self, chat_id: int, position: int) -> Changes:
        return self.submit(DeleteMessagesFrom(chat_id, position))

    def _chat_of(self, message_id: int) -> int:
        for operation in reversed(self._queue):
            if isinstance(operation, AddMessage) and operation.message.id == message_id:
                return operation.message.chat_id
        return self.store.chat_of_message(message_id)

    # ------------------------------------------------------------ comparisons: at once, raising on refusal

    def create_comparison(self, title: str = "New comparison", run_mode: str = "auto") -> ComparisonRecord:
        now = time.time()
        record = ComparisonRecord(max(self.store.last_comparison_id(), 0) + 1, title, [], run_mode, now, now)
        self.write_now([CreateComparison(record)])
        return self.store.comparison(record.id) or record

    def add_column(self, comparison_id: int, model_path: str = "", load: dict[str, Any] | None = None,
                   sampling: dict[str, Any] | None = None) -> ColumnRecord:
        """A new column with its own (empty) conversation."""
        record = self.comparison(comparison_id)
        if record is None:
            raise ValueError(f"no comparison {comparison_id}")
        now = time.time()
        chat = ChatRecord(self.new_chat_id(), f"{record.title} · column {len(record.columns) + 1}",
                          model_path=model_path, sampling=sampling or {}, created=now, updated=now,
                          comparison_id=comparison_id)
        column = ColumnRecord(chat.id, model_path, load or {}, sampling or {})
        self.write_now([CreateChat(chat), UpdateComparison(comparison_id, columns=(*record.columns, column))])
        return column

    def save_columns(self, comparison_id: int, columns: Sequence[ColumnRecord]) -> Changes:
        return self.write_now([UpdateComparison(comparison_id, columns=tuple(columns))])

    def remove_column(self, comparison_id: int, chat_id: int) -> Changes:
        """The column and its conversation."""
        record = self.comparison(comparison_id)
        if record is None:
            return ()
        kept = tuple(c for c in record.columns if c.chat_id != chat_id)
        return self.write_now([UpdateComparison(comparison_id, columns=kept), DeleteChat(chat_id)])

    def update_comparison(self, comparison_id: int, *, title: str | None = None,
                          run_mode: str | None = None) -> Changes:
        return self.write_now([UpdateComparison(comparison_id, title=title, run_mode=run_mode)])

    def touch_comparison(self, comparison_id: int) -> Changes:
        """It was used: it goes first in the list."""
        return self.write_now([UpdateComparison(comparison_id, touch=True)])

    def delete_comparison(self, comparison_id: int) -> Changes:
        """The comparison and its columns' conversations."""
        return self.write_now([DeleteComparison(comparison_id)])

    # ------------------------------------------------------------ reading, with what is pending applied

    def _chat(self, chat: ChatRecord | None) -> ChatRecord | None:
        for operation in self._queue:
            if chat is None:
                break
            chat = operation.on_chat(chat)
        return chat

    def chat(self, chat_id: int) -> ChatRecord | None:
        chat = self.store.chat(chat_id)
        if chat is None:  # maybe one that waits to be written: what follows its creation applies
            for i, operation in enumerate(self._queue):
                made = operation.created_chat()
                if made is not None and made.id == chat_id:
                    chat = made
                    for later in self._queue[i + 1:]:
                        chat = later.on_chat(chat) if chat else None
                    return chat
            return None
        return self._chat(chat)

    def chats(self, search: str = "") -> list[ChatRecord]:
        """Newest first (chats waiting to be written before those on disk), Compare columns left out."""
        queued = [made.id for operation in self._queue if (made := operation.created_chat()) is not None]
        waiting = [c for c in map(self.chat, reversed(queued))
                   if c is not None and not c.comparison_id and search.lower() in c.title.lower()]
        written = [self._chat(c) for c in self.store.chats(search)]
        return waiting + [c for c in written if c is not None]

    def all_messages(self, chat_id: int) -> list[Message]:
        tree = self.store.all_messages(chat_id)
        for operation in self._queue:
            tree = operation.on_messages(chat_id, tree)
        return tree

    def messages(self, chat_id: int) -> list[Message]:
        """The conversation on screen (store.messages), what waits included."""
        if not self._queue:
            return self.store.messages(chat_id)
        return branches.shown_path(self.all_messages(chat_id))

    def alternatives(self, message_id: int) -> list[Message]:
        chat_id = self._chat_of(message_id)
        return branches.siblings(self.all_messages(chat_id), message_id) if chat_id else []

    def read_image(self, sha256: str) -> bytes:
        """A chat image's bytes (store/images.py); KeyError when it is gone."""
        return self.store.images.read(sha256)

    def save_image(self, data: bytes) -> str:
        """Write a picture into the chats' image folder now (before the message naming it); its SHA-256."""
        return self.store.images.save(data)

    def comparison(self, comparison_id: int) -> ComparisonRecord | None:
        return self.store.comparison(comparison_id)

    def comparisons(self) -> list[ComparisonRecord]:
        """Newest first."""
        return self.store.comparisons()

