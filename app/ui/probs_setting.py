"""Chat → Keep token probabilities: a setting, on by default, that every stored chat's replies follow."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from app.chat.conversation import Conversation
from app.settings import Settings


def add_keep_probs_action(menu: QMenu, parent: QWidget, settings: Settings, save: Callable[[], None]) -> QAction:
    """The checkable action; applies the saved setting now (Conversation asks the engine accordingly)."""
    action = QAction("Keep token probabilities", parent)
    action.setCheckable(True)
    action.setShortcut(QKeySequence("Ctrl+Shift+K"))
    action.setChecked(settings.keep_token_probs)
    action.setToolTip("Save each reply's token probabilities and top 5 alternatives (about 160 KB per 1,000 "
                      "tokens) to tint replies by confidence and try \"what if\"")
    Conversation.keep_token_probs = settings.keep_token_probs

    def toggled(on: bool) -> None:
        settings.keep_token_probs = Conversation.keep_token_probs = on
        save()

    action.toggled.connect(toggled)
    menu.addAction(action)
    return action
