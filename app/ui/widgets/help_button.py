"""A small "?" button that asks for the help page at one section.

The button only says which section (`requested(anchor)`); whoever owns the help page
connects to it, so a widget never needs to know where the help is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QToolButton, QWidget


class HelpButton(QToolButton):
    """"What's this?" for one control: clicking emits `requested` with the help page's anchor."""

    requested = Signal(str)  # the help page's anchor, e.g. "top-p"

    def __init__(self, anchor: str, topic: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.anchor = anchor
        self.setText("?")
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.WhatsThisCursor)
        self.setAccessibleName(f"What's this: {topic}")
        self.setToolTip(f"What's this? {topic} explained in the help")
        self.clicked.connect(lambda: self.requested.emit(self.anchor))
