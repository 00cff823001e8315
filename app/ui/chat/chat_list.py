"""The sidebar's list of conversations: model, view and actions."""

from __future__ import annotations

import datetime
import sqlite3

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from app.store import ChatRecord
from app.store.pending_writes import PendingWrites
from app.ui.changes import change_signal, touches
from app.ui.plain_text import as_html

ChatIdRole = Qt.ItemDataRole.UserRole + 1


class ChatListModel(QAbstractListModel):
    def __init__(self, store: PendingWrites, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self._chats: list[ChatRecord] = []
        self.search = ""
        self.problem = ""  # why the last refresh failed

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._chats)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._chats):
            return None
        chat = self._chats[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return chat.title
        if role == Qt.ItemDataRole.ToolTipRole:
            when = datetime.datetime.fromtimestamp(chat.updated).strftime("%Y-%m-%d %H:%M")
            return as_html(f"{chat.title}\nlast message {when}")  # tooltips guess rich text
        if role == ChatIdRole:
            return chat.id
        return None

    def refresh(self, search: str | None = None) -> None:
        if search is not None:
            self.search = search
        try:
            chats = self.store.chats(self.search)
        except (sqlite3.Error, OSError) as exc:  # a damaged page: keep the list as it was
            self.problem = f"Could not read the list of chats ({exc})."
            return
        self.problem = ""
        self.beginResetModel()
        self._chats = chats
        self.endResetModel()

    def row_of(self, chat_id: int) -> int:
        return next((i for i, c in enumerate(self._chats) if c.id == chat_id), -1)

    def chats(self) -> list[ChatRecord]:
        return list(self._chats)

    def chat_at(self, row: int) -> ChatRecord:
        return self._chats[row]


class FitWidthDelegate(QStyledItemDelegate):
    """Rows never wider than the list: a long title is elided instead of scrolling sideways."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        size.setWidth(min(size.width(), self.view.viewport().width()))
        return size


class ChatSidebar(QWidget):
    chat_selected = Signal(int)
    new_chat_requested = Signal()

    def __init__(self, store: PendingWrites, parent: QWidget | None = None) -> None:
        """`store` is the window's one writer: renames and deletions go through it, and the list follows
        every change to a chat it announces (a new chat, a title, a message that moves it up)."""
        super().__init__(parent)
        self.store = store
        self.model = ChatListModel(store, self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search chats")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search chats")
        self.new_button = QPushButton("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setAccessibleName("Chats")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list.setItemDelegate(FitWidthDelegate(self.list))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)  # rows follow the list's width
        top = QHBoxLayout()
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        self.rename_action = QAction("Rename…", self)
        self.rename_action.setShortcut("F2")
        self.rename_action.setToolTip("Rename the selected chat")
        self.delete_action = QAction("Delete…", self)
        self.delete_action.setShortcut("Delete")
        self.delete_action.setToolTip("Delete the selected chat")
        self.list.addAction(self.rename_action)
        self.list.addAction(self.delete_action)
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

        self.new_button.clicked.connect(self.new_chat_requested)
        self.search.textChanged.connect(self._on_search)
        self.list.selectionModel().currentChanged.connect(self._on_current)
        self.list.customContextMenuRequested.connect(self._menu)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action.triggered.connect(self.delete_current)
        self._selected = 0
        self.model.refresh()
        change_signal(store).changed.connect(self._on_store_changed)

    def _on_store_changed(self, changes) -> None:
        if touches(changes, "chat"):
            self.refresh()

    def _on_search(self, text: str) -> None:
        self.model.refresh(text)
        self.select(self._selected, emit=False)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            chat_id = current.data(ChatIdRole)
            if chat_id != self._selected:
                self._selected = chat_id
                self.chat_selected.emit(chat_id)

    def refresh(self) -> None:
        self.model.refresh()
        self.select(self._selected, emit=False)

    def select(self, chat_id: int, emit: bool = True) -> None:
        row = self.model.row_of(chat_id)
        if row < 0:
            return
        if not emit:
            self._selected = chat_id
        self.list.selectionModel().blockSignals(not emit)
        self.list.setCurrentIndex(self.model.index(row))
        self.list.selectionModel().blockSignals(False)

    def current_chat(self) -> int:
        index = self.list.currentIndex()
        return index.data(ChatIdRole) if index.isValid() else 0

    def _menu(self, pos) -> None:
        if not self.list.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def rename_current(self) -> None:
        chat_id = self.current_chat()
        chat = self.store.chat(chat_id) if chat_id else None
        if chat is None:
            return
        title, ok = QInputDialog.getText(self, "Rename chat", "Title:", text=chat.title)
        if ok and title.strip():
            self.store.update_chat(chat_id, title=title.strip())  # announced: this list and the chat's title follow

    def delete_current(self) -> None:
        chat_id = self.current_chat()
        chat = self.store.chat(chat_id) if chat_id else None
        if chat is None:
            return
        answer = QMessageBox.question(self, "Delete chat", as_html(f"Delete “{chat.title}” and all its messages?"))
        if answer == QMessageBox.StandardButton.Yes:
            self._selected = 0
            self.store.delete_chat(chat_id)  # announced: the list drops it, the window shows another chat
