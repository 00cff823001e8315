"""Import asks how: copy the file, move it, or link to it where it is (the default on the same disk)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QDialog, QDialogButtonBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from app.formatting import human_bytes
from app.library.model_import import ImportMethod, default_method, same_disk

LINK_SAME_DISK = "Link (uses no space; the model stays even if you delete the original)"
LINK_OTHER_DISK = "Link to it where it is (uses no space; keep the file where it is)"


class ImportDialog(QDialog):
    def __init__(self, source: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a model")
        try:
            size = f" ({human_bytes(source.stat().st_size)})"
        except OSError:
            size = ""
        intro = QLabel(f"How should Hearth bring in {source.name}{size}?")
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        local = same_disk(source)
        self.buttons: dict[ImportMethod, QRadioButton] = {
            ImportMethod.LINK: QRadioButton(LINK_SAME_DISK if local else LINK_OTHER_DISK),
            ImportMethod.COPY: QRadioButton("Copy it into Hearth's models folder (uses the space again)"),
            ImportMethod.MOVE: QRadioButton("Move it into Hearth's models folder"),
        }
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        for method, button in self.buttons.items():
            button.setAccessibleName(f"{method.value.capitalize()} the model file")
            self.group.addButton(button)
            layout.addWidget(button)
        self.buttons[default_method(source)].setChecked(True)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)

    def method(self) -> ImportMethod:
        return next(m for m, b in self.buttons.items() if b.isChecked())


def ask_import_method(source: Path, parent: QWidget | None = None) -> ImportMethod | None:
    """The method the user chose, or None when they cancelled."""
    dialog = ImportDialog(source, parent)
    if not dialog.exec():
        return None
    return dialog.method()
