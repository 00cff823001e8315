"""Writes that could not reach the disk wait here, in order, until they can.

`PendingWrites` wraps a `ConversationStore` with the same methods. A write that
fails (disk full, read-only file, I/O error) is kept in memory and retried in
order by `retry()`; reads show the store as it will be once everything pending
is written, so nothing typed or streamed is lost while the disk is full (a
queued switch between alternatives shows once it is written).
No Qt: the GUI decides when to retry and how to show `problem`.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from app.store.conversations import LATEST, ChatRecord, ConversationStore, MessageRecord

WRITE_ERRORS = (sqlite3.Error, OSError)
DISK_FULL = "Disk full: this chat is not being saved. Free space and press Retry."


def describe_write_error(exc: BaseException) -> str:
    """One plain sentence for a failed write."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "disk is full" in text or "disk full" in text:
        return DISK_FULL
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return "The chat database is read-only: this chat is not being saved."
    return f"Could not save this chat ({text}). It is kept here; press Retry."


@dataclass
class Write:
    """One store call waiting to be made."""

    method: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


class PendingWrites:
    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        self._queue: list[Write] = []
        self.problem = ""  # why writes are waiting; empty when everything is on disk
        self._listeners: list[Callable[[str], None]] = []  # called with `problem` when it changes
        self._next_id = 0  # the last message id handed out
        self._next_chat_id = 0

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call `listener(problem)` whenever the problem changes (every view that writes through this queue)."""
        self._listeners.append(listener)

    def unlisten(self, listener: Callable[[str], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __getattr__(self, name: str):
        return getattr(self.store, name)  # close(), path, read_only, db, …

    @property
    def pending(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------ writing

    def retry(self) -> bool:
        """Write everything pending, oldest first; True when nothing is left."""
        while self._queue:
            write = self._queue[0]
            try:
                getattr(self.store, write.method)(*write.args, **write.kwargs)
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

    def _submit(self, method: str, *args, **kwargs):
        """Make the call now if nothing is waiting, else (or if it fails) queue it."""
        if not self._queue:
            try:
                return getattr(self.store, method)(*args, **kwargs)
            except WRITE_ERRORS as exc:
                self._set_problem(describe_write_error(exc))
        last = self._queue[-1] if self._queue else None
        if method == "update_message" and last and last.method == method and last.args == args:
            last.kwargs.update(kwargs)  # a streaming reply: keep only its latest text
        else:
            self._queue.append(Write(method, args, kwargs))
        return None

    def _set_problem(self, problem: str) -> None:
        if problem != self.problem:
            self.problem = problem
            for listener in list(self._listeners):
                listener(problem)

    def create_chat(self, title: str = "New chat", **kwargs) -> ChatRecord:
        self._next_chat_id = max(self._next_chat_id, self.store.last_chat_id()) + 1
        kwargs["chat_id"] = self._next_chat_id
        chat = self._submit("create_chat", title, **kwargs)
        return chat if chat is not None else self._new_chat(self._queue[-1])

    @staticmethod
    def _new_chat(write: Write) -> ChatRecord:
        """The chat a queued create_chat will write."""
        values = dict(write.kwargs)
        chat_id = values.pop("chat_id")
        values["sampling"] = values.get("sampling") or {}
        now = time.time()
        return ChatRecord(chat_id, *write.args, created=now, updated=now, **values)

    def add_message(self, chat_id: int, role: str, content: str, **kwargs) -> MessageRecord:
        # The id is chosen here, so later updates can name a message that is not yet on disk.
        self._next_id = max(self._next_id, self.store.last_message_id()) + 1
        kwargs["message_id"] = self._next_id
        record = self._submit("add_message", chat_id, role, content, **kwargs)
        return record if record is not None else self.messages(chat_id)[-1]

    @staticmethod
    def _record(write: Write, position: int) -> MessageRecord:
        """The message a queued add_message will write."""
        chat_id, role, content = write.args
        values = {k: v for k, v in write.kwargs.items() if k not in ("message_id", "parent_id")}
        for key in ("sampling", "stats"):
            values[key] = values.get(key) or {}
        return MessageRecord(write.kwargs["message_id"], chat_id, position, role, content, created=time.time(),
                             **values)

    def update_message(self, message_id: int, **kwargs) -> None:
        self._submit("update_message", message_id, **kwargs)

    def select_alternative(self, message_id: int) -> None:
        self._submit("select_alternative", message_id)

    def update_chat(self, chat_id: int, **values) -> None:
        self._submit("update_chat", chat_id, **values)

    def delete_messages_from(self, chat_id: int, position: int) -> None:
        self._submit("delete_messages_from", chat_id, position)

    def delete_chat(self, chat_id: int) -> None:
        self._submit("delete_chat", chat_id)

    # ------------------------------------------------------------ reading, with what is pending applied

    def _queued_chats(self) -> list[ChatRecord]:
        return [self._new_chat(w) for w in self._queue if w.method == "create_chat"]

    def chat(self, chat_id: int) -> ChatRecord | None:
        chat = self.store.chat(chat_id) or next((c for c in self._queued_chats() if c.id == chat_id), None)
        return self._apply_to_chat(chat) if chat else None

    def chats(self, search: str = "") -> list[ChatRecord]:
        queued = [c for c in self._queued_chats() if search.lower() in c.title.lower() and not c.comparison_id]
        chats = [self._apply_to_chat(c) for c in reversed(queued)] + [self._apply_to_chat(c)
                                                                       for c in self.store.chats(search)]
        return [c for c in chats if c is not None]

    def _apply_to_chat(self, chat: ChatRecord) -> ChatRecord | None:
        for write in self._queue:
            if write.args[:1] != (chat.id,):
                continue
            if write.method == "delete_chat":
                return None
            if write.method == "update_chat":
                chat = replace(chat, **write.kwargs)
        return chat

    def messages(self, chat_id: int) -> list[MessageRecord]:
        messages = self.store.messages(chat_id)
        for write in self._queue:
            if write.method == "add_message" and write.args[0] == chat_id:
                parent = write.kwargs.get("parent_id", LATEST)
                if parent != LATEST:  # an alternative: the conversation now runs through it
                    keep = next((i + 1 for i, m in enumerate(messages) if m.id == parent), 0)
                    messages = messages[:keep]
                last = messages[-1] if messages else None
                record = self._record(write, last.position + 1 if last else 0)
                messages.append(replace(record, parent_id=last.id if last else None))
            elif write.method == "update_message":
                messages = [replace(m, **write.kwargs) if m.id == write.args[0] else m for m in messages]
            elif write.method == "delete_messages_from" and write.args[0] == chat_id:
                messages = [m for m in messages if m.position < write.args[1]]
            elif write.method == "delete_chat" and write.args[0] == chat_id:
                messages = []
        return messages
