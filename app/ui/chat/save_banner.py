"""The banner shown while a chat's writes wait for the disk, with Retry (also pressed every few seconds)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

RETRY_MS = 5000  # while writes wait, they are retried this often without a click


class SaveBanner(QFrame):
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saveBanner")
        self.setStyleSheet("QFrame#saveBanner { background: #fef3c7; color: #78350f; border-radius: 4px; }")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Write everything not yet saved")
        self.retry_button.setAccessibleName("Retry saving")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.retry_button)
        self.timer = QTimer(self)
        self.timer.setInterval(RETRY_MS)
        self.timer.timeout.connect(self.retry_requested)
        self.retry_button.clicked.connect(self.retry_requested)
        self.setVisible(False)

    def show_problem(self, text: str, can_retry: bool = True) -> None:
        """Show `text` (empty: hide); retry periodically while it shows."""
        self.message.setText(text)
        self.retry_button.setVisible(can_retry)
        self.setVisible(bool(text))
        if text and can_retry:
            self.timer.start()
        else:
            self.timer.stop()
