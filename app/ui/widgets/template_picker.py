"""A load setting: a .jinja chat template file that replaces the model's own, with Reset."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.ui import file_dialogs


class TemplatePicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = QLineEdit()
        self.path.setPlaceholderText("The model's own template (paste or choose a .jinja file to replace it)")
        self.path.setAccessibleName("Chat template file")
        self.path.setClearButtonEnabled(True)
        self.choose = QPushButton("Choose…")
        self.choose.setAccessibleName("Choose a chat template file")
        self.reset = QPushButton("Reset")
        self.reset.setAccessibleName("Reset the chat template")
        self.reset.setToolTip("Use the model's own chat template again")
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setObjectName("templateProblem")
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.choose)
        row.addWidget(self.reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        self.choose.clicked.connect(self._choose)
        self.reset.clicked.connect(lambda: self.set_file(""))
        self.path.textChanged.connect(self._check)

    def file(self) -> str:
        return self.path.text().strip()

    def set_file(self, path: str) -> None:
        self.path.setText(path)

    def _choose(self) -> None:
        path = file_dialogs.open_file(self, "template", "Chat template",
                                      "Jinja templates (*.jinja *.j2 *.txt);;All files (*)")
        if path:
            self.set_file(path)

    def _check(self) -> None:
        """A quick plain check as the path is typed; the engine validates the template on load."""
        path = self.file()
        message = ""
        if path and not Path(path).expanduser().is_file():
            message = f"No file at {path}: the model's own template will be refused until this is fixed or reset."
        self.problem.setText(message)
        self.problem.setVisible(bool(message))
        self.changed.emit()
