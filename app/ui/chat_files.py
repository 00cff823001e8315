"""File → Export chat as Markdown… / JSON… and Import chat… for the chat on the chat page.

The work (dialogs, reading and writing the files) is in chat_export.py; this says which chat,
and announces an imported one so the window can show it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStatusBar, QWidget

from app.store.pending_writes import PendingWrites
from app.ui.chat.chat_page import ChatPage
from app.ui.chat_export import export_chat, import_chat_file


class ChatFiles(QObject):
    imported = Signal(int)  # the new chat's id

    def __init__(self, store: PendingWrites, chat_page: ChatPage, status: QStatusBar, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.store = store
        self.chat_page = chat_page
        self.status = status
        self.dialog_parent = dialog_parent

    def export(self, kind: str) -> None:
        """The chat shown, as "md" (Markdown) or "json" (every alternative kept, for importing again)."""
        if self.chat_page.chat_id:
            export_chat(self.dialog_parent, self.store, self.chat_page.chat_id, kind, self.status,
                        self.chat_page.tasks)

    def import_file(self, path: str = "") -> int:
        """A chat exported as JSON, as a new chat (asks for the file when no path is given); its id, or 0."""
        chat_id = import_chat_file(self.dialog_parent, self.store, self.status, path)
        if chat_id:
            self.imported.emit(chat_id)
        return chat_id
