"""The collapsible "Thinking" section of an assistant reply.

It streams open while the model thinks, folds itself once the answer starts,
and the user can open it again. The thinking is shown as plain text: it is the
model's scratch work, not formatted output.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

from app.formatting import counted


def thinking_summary(tokens: int, seconds: float, streaming: bool) -> str:
    parts = ["Thinking…" if streaming else "Thinking"]
    if tokens:
        parts.append(counted(tokens, "token"))
    if seconds >= 0.1:
        parts.append(f"{seconds:.1f} s")
    elif seconds > 0:
        parts.append(f"{seconds * 1000:.0f} ms")
    return " · ".join(parts)


class ThinkingSection(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thinkingSection")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(2)
        self.toggle = QToolButton()
        self.toggle.setObjectName("thinkingToggle")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAccessibleName("Show or hide the model's thinking")
        self.toggle.toggled.connect(self._on_toggled)
        self.body = QLabel()
        self.body.setObjectName("thinkingBody")
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAccessibleName("Thinking")
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)
        self._folded_for_answer = False  # folded once when the answer started; the user decides after that
        self._text = ""
        self._set_expanded(False)
        self.setVisible(False)

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_thinking(self, text: str, tokens: int, seconds: float, streaming: bool, answer_started: bool) -> None:
        self.setVisible(bool(text.strip()))
        if not text.strip():
            self._folded_for_answer = False
            return
        if text != self._text:
            self._text = text
            self.body.setText(text.strip())
        self.toggle.setText(thinking_summary(tokens, seconds, streaming and not answer_started))
        if streaming and not answer_started and not self._folded_for_answer:
            self._set_expanded(True)  # watch it think
        elif answer_started and not self._folded_for_answer:
            self._folded_for_answer = True
            self._set_expanded(False)

    def reset(self) -> None:
        """A finished reply shown afresh (opening a chat) starts folded."""
        self._folded_for_answer = True
        self._set_expanded(False)

    def _set_expanded(self, expanded: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(expanded)
        self.toggle.blockSignals(False)
        self._on_toggled(expanded)

    def _on_toggled(self, expanded: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)
