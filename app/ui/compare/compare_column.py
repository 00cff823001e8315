"""One Compare column on screen: its model and settings in the header, its conversation, its numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.chat.message_view import MessageListView
from app.ui.compare import column_stats
from app.ui.compare.compare_controller import Column

MARK_WORDS = {"fastest": "fastest", "first token": "first token first", "longest": "longest reply",
              "shortest": "shortest reply"}
STATE_WORDS = {"waiting": "Waiting", "loading": "Loading", "writing": "Writing…", "done": "", "failed": "Failed",
               "stopped": "Stopped", "idle": ""}


class CompareColumnView(QFrame):
    model_chosen = Signal(int, str)  # column index, model path
    settings_requested = Signal(int)
    remove_requested = Signal(int)

    def __init__(self, index: int, column: Column, choices: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.column = column
        self.setObjectName("compareColumn")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.picker = QComboBox()
        self.picker.setAccessibleName(f"Column {index + 1} model")
        self.picker.setToolTip("The model this column runs")
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(12)
        for label, path in choices:
            self.picker.addItem(label, path)
        path = column.record.model_path
        if path and self.picker.findData(path) < 0:  # a model no longer in the library: still shown, by name
            self.picker.addItem(f"{path.rsplit('/', 1)[-1]} (not found)", path)
        self.picker.setCurrentIndex(max(self.picker.findData(path), 0) if path else -1)
        self.picker.activated.connect(lambda _i: self.model_chosen.emit(self.index, self.picker.currentData() or ""))
        self.settings_button = self._button("Settings…", "Context size, GPU layers and sampling for this column",
                                            lambda: self.settings_requested.emit(self.index))
        self.remove_button = self._button("✕", "Remove this column", lambda: self.remove_requested.emit(self.index))
        self.remove_button.setAccessibleName(f"Remove column {index + 1}")
        header = QHBoxLayout()
        header.addWidget(self.picker, 1)
        header.addWidget(self.settings_button)
        header.addWidget(self.remove_button)
        self.settings_line = QLabel()
        self.settings_line.setObjectName("columnSettings")
        self.settings_line.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel()
        self.status.setObjectName("columnStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.view = MessageListView(actions=frozenset({"copy"}))
        self.view.set_model(column.session.messages)
        self.view.copy_requested.connect(
            lambda row: QGuiApplication.clipboard().setText(column.session.messages.item(row).content))
        self.view.alternative_requested.connect(column.session.show_alternative)
        self.marks = QLabel()
        self.marks.setObjectName("columnMarks")
        self.marks.setTextFormat(Qt.TextFormat.PlainText)
        self.stats = QFormLayout()
        self.stats.setContentsMargins(0, 0, 0, 0)
        stats_box = QWidget()
        stats_box.setLayout(self.stats)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.settings_line)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.marks)
        layout.addWidget(stats_box)
        self.refresh()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def set_marks(self, marks: list[str]) -> None:
        """The summary marks this column earned ("fastest", …); none hides the line."""
        self.marks.setText(" · ".join(MARK_WORDS.get(m, m) for m in marks))
        self.marks.setVisible(bool(marks))

    def refresh(self) -> None:
        """Show the column's state, message, settings and last reply's numbers."""
        column = self.column
        load, sampling = column.record.load, column.record.sampling
        parts = [f"{int(load['n_ctx']):,}-token context" if load.get("n_ctx") else ""]
        if "temperature" in sampling:
            parts.append(f"temp {sampling['temperature']:g}")
        if sampling.get("seed") is not None and sampling.get("seed", -1) >= 0:
            parts.append(f"seed {sampling['seed']}")
        self.settings_line.setText(" · ".join(p for p in parts if p))
        words = STATE_WORDS.get(column.state, "")
        text = " — ".join(p for p in (words, column.message) if p and p != words + ".")
        self.status.setText(text or column.message)
        self.status.setVisible(bool(self.status.text()))
        self.status.setProperty("failed", column.state == "failed")
        busy = column.state in ("waiting", "loading", "writing")
        for widget in (self.picker, self.settings_button, self.remove_button):
            widget.setEnabled(not busy)
        while self.stats.rowCount():
            self.stats.removeRow(0)
        for label, value in column_stats.describe(column.stats):
            value_label = QLabel(value)
            value_label.setTextFormat(Qt.TextFormat.PlainText)
            self.stats.addRow(label, value_label)
