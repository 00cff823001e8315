"""The always-visible token and context-window meter.

Its "?" button emits `help_requested("context")` for whoever shows the help page.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.engine.protocol import CountResult
from app.library.model_kind import BASE_MODEL
from app.ui.widgets.help_button import HelpButton

AMBER_AT = 0.8


TIP = "How much of the model's context window this chat fills: system prompt, history, your draft and the reply"


class ContextMeter(QWidget):
    help_requested = Signal(str)  # the help page's anchor: "context"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.bar.setAccessibleName("Context window used")
        self.bar.setToolTip(TIP)
        self.numbers = QLabel("no model loaded")
        self.numbers.setTextFormat(Qt.TextFormat.PlainText)
        self.numbers.setObjectName("meterNumbers")
        self.numbers.setToolTip(TIP)
        self.help_button = HelpButton("context", "The context window")
        self.help_button.requested.connect(self.help_requested)
        self.warning = QLabel()
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setObjectName("meterWarning")
        self.warning.setWordWrap(True)
        self.speed = QLabel()
        self.speed.setTextFormat(Qt.TextFormat.PlainText)
        self.speed.setObjectName("meterSpeed")
        top = QHBoxLayout()
        top.addWidget(self.numbers)
        top.addWidget(self.help_button)
        top.addStretch(1)
        top.addWidget(self.speed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.warning)
        self.used = 0
        self.n_ctx = 0
        self.base: CountResult | None = None
        self.streamed = 0
        self.level = "ok"
        self._styled = ""
        self._show()

    def set_count(self, result: CountResult) -> None:
        """The exact count of what the model will see (history and draft)."""
        self.base = result
        self.streamed = 0
        self.n_ctx = result.n_ctx
        self.used = result.prompt_tokens
        notes = []
        if not result.fits:
            notes.append(f"Too long: {result.prompt_tokens:,} tokens do not fit a {result.n_ctx:,}-token context. "
                         "Shorten the message, start a new chat, or choose another overflow policy.")
        elif result.dropped_messages:
            notes.append(f"Sending now leaves out the {result.dropped_messages} oldest message"
                         f"{'s' if result.dropped_messages != 1 else ''} to fit the context.")
        if result.truncated:
            notes.append("The newest message will be cut in the middle to fit.")
        if result.chat_template == "default":
            notes.append("This model's chat template could not be used; a default (ChatML) one is used.")
        elif result.chat_template == "completion":
            notes.append(f"{BASE_MODEL}.")
        self.warning.setText(" ".join(notes))
        self._show()

    def add_streamed(self, n_tokens: int) -> None:
        """Completion tokens so far of the reply being written."""
        if self.base is None:
            return
        self.streamed = n_tokens
        self.used = self.base.prompt_tokens + n_tokens
        self._show()

    def set_speed(self, text: str) -> None:
        self.speed.setText(text)

    def clear(self, message: str = "no model loaded") -> None:
        self.base = None
        self.used = self.n_ctx = self.streamed = 0
        self.warning.setText("")
        self.numbers.setText(message)
        self._show(message)

    def _show(self, message: str | None = None) -> None:
        n_ctx = max(self.n_ctx, 1)
        fraction = self.used / n_ctx
        full = fraction >= 1.0 or (self.base is not None and not self.base.fits)
        level = "full" if full else "near" if fraction >= AMBER_AT else "ok"
        if self.bar.maximum() != n_ctx:
            self.bar.setRange(0, n_ctx)
        self.bar.setValue(min(self.used, n_ctx))
        if level != self._styled:  # style sheets are costly: only when the colour changes
            self._styled = level
            color = {"ok": "#3b82f6", "near": "#f59e0b", "full": "#dc2626"}[level]
            self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {color}; border-radius: 3px; }}")
            self.warning.setStyleSheet(f"color: {'#dc2626' if full else '#b45309'};")
        self.level = level
        if message is None and self.n_ctx:
            about = "≈ " if self.base is not None and self.base.estimated else ""  # a server that cannot count
            self.numbers.setText(f"{about}{self.used:,} / {self.n_ctx:,} tokens ({fraction:.0%})")
        elif message is None and self.base is not None and self.base.estimated:
            self.numbers.setText(f"≈ {self.used:,} tokens (the server does not say its context size)")
        self.warning.setVisible(bool(self.warning.text()))
