"""The message box: Enter sends, Shift+Enter adds a line, Esc stops a reply."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.ui.chat.pictures import IMAGE_SUFFIXES, Attachments, pictures_in
from app.ui.chat.token_strip import TokenStrip

# The message box's own keys (not QActions), for the keyboard shortcuts dialog: (keys, what they do)
COMPOSER_KEYS = (
    ("Enter", "Send the message"),
    ("Shift+Enter", "Start a new line in the message"),
    ("Esc", "Stop the reply being written"),
)


# Window shortcuts the message box must not take for itself (on X11, Ctrl+K deletes to the end of the line)
WINDOW_KEYS = (Qt.KeyboardModifier.ControlModifier | Qt.Key.Key_K,)


class ComposerEdit(QPlainTextEdit):
    send_requested = Signal()
    stop_requested = Signal()
    attachments: Attachments | None = None  # where pasted and dropped pictures go

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return pictures_in(source) is not None or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if self.attachments is None or not self.attachments.add_mime(source):
            super().insertFromMimeData(source)

    def event(self, event: QEvent) -> bool:
        # A ShortcutOverride event is a QKeyEvent
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.keyCombination() in WINDOW_KEYS):
            event.ignore()  # the window's action (Chat → Choose a model…) gets the key
            return False
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.send_requested.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.stop_requested.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    send = Signal(str)
    stop = Signal()
    draft_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = ComposerEdit()
        self.edit.setPlaceholderText("Message the model — Enter to send, Shift+Enter for a new line")
        self.edit.setAccessibleName("Message")
        self.edit.setFixedHeight(84)
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.setDefault(True)
        self.send_button.setAccessibleName("Send message")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setVisible(False)
        self.attachments = Attachments()
        self.edit.attachments = self.attachments
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setToolTip("Attach pictures (or paste or drop them on the message box)")
        self.attach_button.setAccessibleName("Attach pictures")
        self.attach_button.clicked.connect(self.pick_pictures)
        # The draft as the model will read it (token_views.py asks the engine while the toggle is on)
        self.tokens_button = QPushButton("Tokens")
        self.tokens_button.setCheckable(True)
        self.tokens_button.setToolTip("Show the message split into the model's tokens as you type")
        self.tokens_button.setAccessibleName("Show the message's tokens")
        self.token_strip = TokenStrip("Message tokens", grow=False)  # a long draft scrolls
        self.token_strip.text.setFixedHeight(64)
        self.chart_button = QPushButton("Next token…")
        self.chart_button.setToolTip("The model's 20 best candidates for the first token of its reply to this "
                                     "message, and what the sampling settings make of them")
        self.chart_button.setAccessibleName("Sampling chart for the next token")
        token_row = QHBoxLayout()
        token_row.setContentsMargins(0, 0, 0, 0)
        token_row.addWidget(self.token_strip, 1)
        token_row.addWidget(self.chart_button, 0, Qt.AlignmentFlag.AlignTop)
        self.token_box = QWidget()
        self.token_box.setLayout(token_row)
        self.token_box.setVisible(False)
        self.tokens_button.toggled.connect(self.token_box.setVisible)
        buttons = self.buttons = QVBoxLayout()  # others add their buttons here (the chat's Tools switch)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.tokens_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 8)
        layout.addWidget(self.attachments)
        layout.addWidget(self.token_box)
        layout.addLayout(row)
        self.edit.send_requested.connect(self._send)
        self.edit.stop_requested.connect(self.stop)
        self.send_button.clicked.connect(self._send)
        self.stop_button.clicked.connect(self.stop)
        self.edit.textChanged.connect(lambda: self.draft_changed.emit(self.edit.toPlainText()))
        self._busy = False
        self._send_after_reading = False
        self.attachments.changed.connect(self._read)

    def _read(self) -> None:
        if self._send_after_reading and not self.attachments.reading:
            self._send_after_reading = False
            self._send()

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)

    def set_busy(self, busy: bool) -> None:
        """While a reply streams the user may type the next message but not send it."""
        self._busy = busy
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)

    def pick_pictures(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        patterns = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach pictures", "", f"Pictures ({patterns})")
        for path in paths:
            self.attachments.add_file(path)  # read and checked off the GUI thread

    def _send(self) -> None:
        text = self.edit.toPlainText().strip()
        if self.attachments.reading:  # a picture is still being read: sent with it once it is in
            self._send_after_reading = True
            return
        if not (text or self.attachments.pictures()) or self._busy:
            return
        self.edit.clear()
        self.send.emit(text)
