"""The writes the one writer knows, one small dataclass per kind.

Each operation can `apply` itself to the store (the write on disk), say what it `changes`, and
show its effect on reads while it waits in the queue (`on_chat`, `on_messages`): the tree's rules
for that come from branches.py, the same functions the store writes with, so waiting and written
writes read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.chat.message import Message, Part
from app.store import branches
from app.store.changes import Change, Changes
from app.store.comparisons import ColumnRecord, ComparisonRecord
from app.store.conversations import ConversationStore
from app.store.records import ChatRecord


class Operation:
    """What every write offers; by default a write changes no reads of chats or messages."""

    def apply(self, store: ConversationStore) -> None:
        raise NotImplementedError

    def changes(self) -> Changes:
        raise NotImplementedError

    def created_chat(self) -> ChatRecord | None:
        """The chat this write makes, as it will read once written."""
        return None

    def on_chat(self, chat: ChatRecord) -> ChatRecord | None:
        """`chat` as it reads after this write (None: deleted)."""
        return chat

    def on_messages(self, chat_id: int, tree: list[Message]) -> list[Message]:
        """Chat `chat_id`'s messages (every branch) as they read after this write."""
        return tree


@dataclass(frozen=True)
class CreateChat(Operation):
    chat: ChatRecord

    def apply(self, store: ConversationStore) -> None:
        c = self.chat
        store.create_chat(c.title, c.system_prompt, c.model_path, c.sampling, c.overflow, c.thinking, chat_id=c.id,
                          comparison_id=c.comparison_id)

    def changes(self) -> Changes:
        return (Change("created", "chat", self.chat.id),)

    def created_chat(self) -> ChatRecord | None:
        return self.chat


@dataclass(frozen=True)
class UpdateChat(Operation):
    chat_id: int
    values: dict[str, Any]

    def apply(self, store: ConversationStore) -> None:
        store.update_chat(self.chat_id, **self.values)

    def changes(self) -> Changes:
        return (Change("updated", "chat", self.chat_id),)

    def on_chat(self, chat: ChatRecord) -> ChatRecord | None:
        return replace(chat, **self.values) if chat.id == self.chat_id else chat


@dataclass(frozen=True)
class DeleteChat(Operation):
    chat_id: int

    def apply(self, store: ConversationStore) -> None:
        store.delete_chat(self.chat_id)

    def changes(self) -> Changes:
        return (Change("deleted", "chat", self.chat_id),)

    def on_chat(self, chat: ChatRecord) -> ChatRecord | None:
        return None if chat.id == self.chat_id else chat

    def on_messages(self, chat_id: int, tree: list[Message]) -> list[Message]:
        return [] if chat_id == self.chat_id else tree


@dataclass(frozen=True)
class AddMessage(Operation):
    """`message` with its id, chat, parent (never LATEST: resolved when queued) and parts."""

    message: Message

    def apply(self, store: ConversationStore) -> None:
        m = self.message
        store.add_message(m.chat_id, m.role, parts=m.parts, model=m.model, sampling=m.sampling, stats=m.stats,
                          complete=m.complete, error=m.error, message_id=m.id, parent_id=m.parent_id)

    def changes(self) -> Changes:
        return Change("created", "message", self.message.id), Change("updated", "chat", self.message.chat_id)

    def on_messages(self, chat_id: int, tree: list[Message]) -> list[Message]:
        return branches.add(tree, self.message) if chat_id == self.message.chat_id else tree


@dataclass(frozen=True)
class UpdateMessage(Operation):
    message_id: int
    content: str | None = None
    reasoning: str | None = None
    parts: tuple[Part, ...] | None = None
    values: dict[str, Any] = field(default_factory=dict)  # stats, complete, error, model

    def apply(self, store: ConversationStore) -> None:
        store.update_message(self.message_id, content=self.content, reasoning=self.reasoning, parts=self.parts,
                             **self.values)

    def changes(self) -> Changes:
        return (Change("updated", "message", self.message_id),)

    def on_messages(self, chat_id: int, tree: list[Message]) -> list[Message]:
        return [self._on(m) if m.id == self.message_id else m for m in tree]

    def _on(self, message: Message) -> Message:
        if self.parts is not None:
            message = replace(message, parts=self.parts)
        if self.content is not None or self.reasoning is not None:
            message = message.with_text(self.content, self.reasoning)
        return replace(message, **self.values)

    def then(self, later: UpdateMessage) -> UpdateMessage | None:
        """This and a later update of the same message as one (a streaming reply keeps its latest text)."""
        if later.message_id != self.message_id:
            return None
        if later.parts is not None:
            return replace(later, values={**self.values, **later.values})
        return UpdateMessage(self.message_id, _later(self.content, later.content),
                             _later(self.reasoning, later.reasoning), self.parts, {**self.values, **later.values})


def _later(first: str | None, second: str | None) -> str | None:
    return first if second is None else second


@dataclass(frozen=True)
class SelectAlternative(Operation):
    chat_id: int
    message_id: int

    def apply(self, store: ConversationStore) -> None:
        store.select_alternative(self.message_id)

    def changes(self) -> Changes:
        return Change("updated", "message", self.message_id), Change("updated", "chat", self.chat_id)

    def on_messages(self, chat_id: int, tree: list[Message]) -> list[Message]:
        return branches.choose(tree, self.message_id) if chat_id == self.chat_id else tree


@dataclass(frozen=True)
class DeleteMessagesFrom(Operation):
    chat_id: int
    position: int

    def apply(self, store: ConversationStore) -> None:
        store.delete_messages_from(self.chat_id, self.position)

    def changes(self) -> Changes:
        return (Change("updated", "chat", self.chat_id),)

    def on_messages(self, chat_id: int, tree: list[Message]) -> list[Message]:
        return branches.cut(tree, self.position) if chat_id == self.chat_id else tree


# ---------------------------------------------------------------- comparisons (written at once, never queued)


@dataclass(frozen=True)
class CreateComparison(Operation):
    record: ComparisonRecord

    def apply(self, store: ConversationStore) -> None:
        store.create_comparison(self.record.title, self.record.run_mode, self.record.id, self.record.created)

    def changes(self) -> Changes:
        return (Change("created", "comparison", self.record.id),)


@dataclass(frozen=True)
class UpdateComparison(Operation):
    comparison_id: int
    title: str | None = None
    run_mode: str | None = None
    columns: tuple[ColumnRecord, ...] | None = None
    touch: bool = False

    def apply(self, store: ConversationStore) -> None:
        store.update_comparison(self.comparison_id, title=self.title, run_mode=self.run_mode,
                                columns=None if self.columns is None else list(self.columns), touch=self.touch)

    def changes(self) -> Changes:
        return (Change("updated", "comparison", self.comparison_id),)


@dataclass(frozen=True)
class DeleteComparison(Operation):
    comparison_id: int

    def apply(self, store: ConversationStore) -> None:
        store.delete_comparison(self.comparison_id)

    def changes(self) -> Changes:
        return (Change("deleted", "comparison", self.comparison_id),)
