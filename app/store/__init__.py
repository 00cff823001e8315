"""Conversations on disk: SQLite with WAL, no Qt. Messages are app.chat.message.Message."""

from app.chat.message import Message
from app.store.conversations import ChatRecord, ConversationStore

__all__ = ["ChatRecord", "ConversationStore", "Message"]
