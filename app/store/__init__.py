"""Conversations on disk: SQLite with WAL, no Qt."""

from app.store.conversations import ChatRecord, ConversationStore, MessageRecord

__all__ = ["ChatRecord", "ConversationStore", "MessageRecord"]
