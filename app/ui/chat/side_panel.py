"""The chat's settings panel beside the transcript: system prompt, overflow, thinking and sampling.

The panel can be hidden so the chat takes the whole width: `toggle_action` (Chat → Show settings
panel, Ctrl+Shift+S) and the page's panel button share one checkable QAction, and
`visibility_changed` tells the window to remember the choice.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QPlainTextEdit,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.engine import OverflowPolicy
from app.ui.chat.thinking_switch import ThinkingSwitch
from app.ui.widgets.sampling_panel import SamplingPanel

OVERFLOW_LABELS = {
    OverflowPolicy.TRUNCATE_MIDDLE: "Drop from the middle",
    OverflowPolicy.ROLLING_WINDOW: "Drop the oldest turns",
    OverflowPolicy.STOP: "Stop at the limit",
}
OVERFLOW_TIPS = {
    OverflowPolicy.TRUNCATE_MIDDLE: "Keep the system prompt and the newest messages; cut from the middle",
    OverflowPolicy.ROLLING_WINDOW: "A rolling window: drop the oldest whole turns",
    OverflowPolicy.STOP: "Never drop anything: refuse to send with a clear message",
}
PANEL_MAX_WIDTH = 420  # the chat takes the rest of the window
TOGGLE_SHORTCUT = QKeySequence("Ctrl+Shift+S")


class ChatSidePanel(QWidget):
    """The per-chat settings; `help_requested(anchor)` comes from the sampling rows' "?" buttons."""

    help_requested = Signal(str)
    visibility_changed = Signal(bool)  # the user showed (True) or hid the panel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown_width = 0  # the width it had when the user last hid it
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText("Optional: how the model should behave in this chat")
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setFixedHeight(100)
        self.overflow = QComboBox()
        self.overflow.setAccessibleName("When the context is full")
        for policy, label in OVERFLOW_LABELS.items():
            self.overflow.addItem(label, policy.value)
            self.overflow.setItemData(self.overflow.count() - 1, OVERFLOW_TIPS[policy], Qt.ItemDataRole.ToolTipRole)
        self.setMaximumWidth(PANEL_MAX_WIDTH)
        self.overflow.setToolTip("What happens when the conversation no longer fits the context window")
        self.sampling = SamplingPanel(help_links=True)
        self.sampling.help_requested.connect(self.help_requested)
        self.thinking = ThinkingSwitch()

        layout = QVBoxLayout(self)
        prompt_box = QGroupBox("System prompt")
        QVBoxLayout(prompt_box).addWidget(self.system_prompt)
        context_box = QGroupBox("Context")
        QFormLayout(context_box).addRow("When full", self.overflow)
        sampling_box = QGroupBox("Sampling")
        QVBoxLayout(sampling_box).addWidget(self.sampling)
        layout.addWidget(prompt_box)
        layout.addWidget(context_box)
        layout.addWidget(self.thinking)
        layout.addWidget(sampling_box)
        layout.addStretch(1)

        self.toggle_action = QAction("Show settings panel", self)
        self.toggle_action.setIconText("Side panel")  # the header button's text
        self.toggle_action.setCheckable(True)
        self.toggle_action.setChecked(True)
        self.toggle_action.setShortcut(TOGGLE_SHORTCUT)
        self.toggle_action.setToolTip("Show or hide the chat's settings panel (system prompt, sampling)")
        self.toggle_action.toggled.connect(self._on_toggled)

    def make_toggle_button(self) -> QToolButton:
        """A button for the page's header that drives `toggle_action` (and shows its state)."""
        button = QToolButton()
        button.setDefaultAction(self.toggle_action)
        button.setAccessibleName("Show or hide the settings panel")
        return button

    def set_shown(self, shown: bool) -> None:
        """Show or hide the panel without telling anyone (restoring the saved choice)."""
        self.toggle_action.blockSignals(True)
        self.toggle_action.setChecked(shown)
        self.toggle_action.blockSignals(False)
        self.setVisible(shown)

    def _on_toggled(self, shown: bool) -> None:
        if not shown:  # the splitter's size for it (its own width may not be laid out yet)
            parent = self.parentWidget()
            self.shown_width = (parent.sizes()[parent.indexOf(self)] if isinstance(parent, QSplitter)
                                else self.width())
        self.setVisible(shown)
        self.visibility_changed.emit(shown)
