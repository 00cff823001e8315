"""The list model of one chat's messages. Only the GUI thread touches it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex, Qt

from app.chat.message import ImagePart, Message, TokenProbsPart
from app.ui.tools.calls_view import ToolPair, tool_pairs

RoleRole = Qt.ItemDataRole.UserRole + 1
ContentRole = Qt.ItemDataRole.UserRole + 2
StatsRole = Qt.ItemDataRole.UserRole + 3
StreamingRole = Qt.ItemDataRole.UserRole + 4
ErrorRole = Qt.ItemDataRole.UserRole + 5
RecordRole = Qt.ItemDataRole.UserRole + 6
ModelNameRole = Qt.ItemDataRole.UserRole + 7
ReasoningRole = Qt.ItemDataRole.UserRole + 8
AlternativeRole = Qt.ItemDataRole.UserRole + 9


@dataclass(frozen=True)
class ChatItem:
    record_id: int
    role: str
    content: str
    model: str = ""
    stats: dict = field(default_factory=dict)
    streaming: bool = False
    error: str = ""
    reasoning: str = ""  # the reply's thinking, shown apart
    position: int = -1  # its turn in the store's chat
    parent_id: int | None = None  # the message it follows (regenerate and edit add its siblings)
    alternative: int = 1  # which alternative at its turn this is (‹ 2/3 ›)
    alternatives: int = 1
    sampling: dict = field(default_factory=dict)  # the settings that wrote a reply
    probs: TokenProbsPart | None = None  # a reply's token probabilities, when kept
    images: tuple[ImagePart, ...] = ()  # the pictures it holds (shown above its text)
    tools: tuple[ToolPair, ...] = ()  # the tools a reply called, each with its result (shown folded)


def item_from_record(m: Message, **changes: Any) -> ChatItem:
    """A stored message as the view shows it; `changes` override (a reply still streaming)."""
    item = ChatItem(m.id, m.role, m.content, m.model, m.stats, False,
                    m.error or ("" if m.complete else "This reply was interrupted."), m.reasoning, m.position,
                    m.parent_id, m.alternative, m.alternatives, m.sampling, m.token_probs, m.images,
                    tool_pairs(m.parts))
    return replace(item, **changes) if changes else item


class MessageModel(QAbstractListModel):
    _roles: ClassVar[dict[int, str]] = {
        RoleRole: "role",
        ContentRole: "content",
        StatsRole: "stats",
        StreamingRole: "streaming",
        ErrorRole: "error",
        RecordRole: "record_id",
        ModelNameRole: "model",
        ReasoningRole: "reasoning",
        AlternativeRole: "alternative",
    }

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[ChatItem] = []

    # Qt overrides
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.content
        name = self._roles.get(role)
        return getattr(item, name) if name else None

    def roleNames(self) -> dict[int, QByteArray]:
        return {role: QByteArray(name.encode()) for role, name in self._roles.items()}

    # API for the chat controller
    def items(self) -> list[ChatItem]:
        return list(self._items)

    def item(self, row: int) -> ChatItem:
        return self._items[row]

    def set_items(self, items: list[ChatItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def append(self, item: ChatItem) -> int:
        row = len(self._items)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.append(item)
        self.endInsertRows()
        return row

    def update(self, row: int, **changes: Any) -> None:
        self._items[row] = replace(self._items[row], **changes)
        index = self.index(row)
        roles = [r for r, name in self._roles.items() if name in changes]
        self.dataChanged.emit(index, index, roles)

    def remove_from(self, row: int) -> None:
        if row >= len(self._items):
            return
        self.beginRemoveRows(QModelIndex(), row, len(self._items) - 1)
        del self._items[row:]
        self.endRemoveRows()
