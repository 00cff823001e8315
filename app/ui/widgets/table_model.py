"""A read-only table of display strings with the object behind each row, and the table view the pages use."""

from __future__ import annotations

from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtWidgets import QHeaderView, QTableView

from app.ui.plain_text import as_html

RowT = TypeVar("RowT")


class TableModel(QAbstractTableModel, Generic[RowT]):
    """A read-only table of rows given as lists of display strings plus the object behind each row (a RowT)."""

    def __init__(self, headers: list[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.headers = headers
        self.rows: list[tuple[list[str], RowT]] = []
        self.tips: dict[tuple[int, int], str] = {}  # (row, column) -> a tooltip other than the cell's text

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][0][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:  # tooltips guess rich text: Hub and file names are escaped
            key = (index.row(), index.column())
            return as_html(self.tips.get(key, self.rows[index.row()][0][index.column()]))
        return None

    def set_rows(self, rows: list[tuple[list[str], RowT]], tips: dict[tuple[int, int], str] | None = None) -> None:
        self.beginResetModel()
        self.rows = rows
        self.tips = tips or {}
        self.endResetModel()

    def item(self, row: int) -> RowT:
        return self.rows[row][1]


def make_table(model: QAbstractTableModel, name: str, stretch_column: int = -1) -> QTableView:
    """A read-only, row-selecting table; columns fit their contents, one stretches."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch_column % model.columnCount(), QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    table.setAccessibleName(name)
    return table
