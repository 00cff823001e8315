"""A reply's tool calls in its card: one folded line per call (name, time taken), opened to show
its arguments and its result. Read from the message's parts, so a reopened chat shows them too."""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

from app.chat.message import Part, ToolCallPart, ToolResultPart

ToolPair = tuple[ToolCallPart, ToolResultPart | None]
RESULT_CHARS = 4000  # a long result is cut on screen (the model was given all of it)


def pretty_arguments(arguments: str) -> str:
    """A call's arguments as the user reads and edits them (indented JSON when they are JSON)."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (json.JSONDecodeError, TypeError):
        return arguments


def elapsed(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def tool_pairs(parts: Sequence[Part]) -> tuple[ToolPair, ...]:
    """Each call of a message with its result (None while it runs), in call order."""
    results = {p.call_id: p for p in parts if isinstance(p, ToolResultPart)}
    return tuple((p, results.get(p.call_id)) for p in parts if isinstance(p, ToolCallPart))


def summary(call: ToolCallPart, result: ToolResultPart | None) -> str:
    if result is None:
        return f"{call.name} · running…"
    if result.is_error:
        return f"{call.name} · failed after {elapsed(result.seconds)}" if result.seconds else f"{call.name} · not run"
    return f"{call.name} · {elapsed(result.seconds)}"


class ToolCallView(QWidget):
    """One call: a folded header (▸ name · time) and, opened, its arguments and result."""

    def __init__(self, pair: ToolPair, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.header = QToolButton()
        self.header.setCheckable(True)
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.RightArrow)
        self.header.toggled.connect(self._fold)
        layout.addWidget(self.header)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setObjectName("toolCallDetails")
        self.details.setContentsMargins(18, 0, 0, 4)
        self.details.hide()
        layout.addWidget(self.details)
        self.set_pair(pair)

    def set_pair(self, pair: ToolPair) -> None:
        call, result = pair
        self.pair = pair
        self.header.setText(summary(call, result))
        self.header.setAccessibleName(f"Tool call {call.name}")
        self.header.setToolTip("Show the call's arguments and result")
        answer = "(running…)" if result is None else result.content
        if len(answer) > RESULT_CHARS:
            answer = answer[:RESULT_CHARS] + f"… ({len(answer) - RESULT_CHARS:,} more characters)"
        self.details.setText(f"Arguments:\n{pretty_arguments(call.arguments)}\n\n"
                             f"{'Error' if result is not None and result.is_error else 'Result'}:\n{answer}")
        self.details.setAccessibleName(f"Tool call {call.name} details")

    def _fold(self, opened: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        self.details.setVisible(opened)


class ToolCallsSection(QWidget):
    """Every call of a reply, each folded; hidden when the reply called none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self.calls: list[ToolCallView] = []
        self.hide()

    def set_pairs(self, pairs: Sequence[ToolPair]) -> None:
        for view, pair in zip(self.calls, pairs):
            if view.pair != pair:
                view.set_pair(pair)
        for pair in pairs[len(self.calls):]:
            view = ToolCallView(pair)
            self._layout.addWidget(view)
            self.calls.append(view)
        for view in self.calls[len(pairs):]:
            self._layout.removeWidget(view)
            view.deleteLater()
        del self.calls[len(pairs):]
        self.setVisible(bool(pairs))
