"""The first-run screen: no chats yet and no model loaded.

Two ways on, one click each: chat with the tiny demo model now, or pick a real
model from the starter list on Discover. Says plainly when the demo model is
missing and why.
"""

from __future__ import annotations

import sqlite3
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.library import demo_model


COLUMN_WIDTH = 560


class FirstRunPanel(QWidget):
    chat_with_demo = Signal(str)  # the demo model's path
    pick_model = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<h2>Welcome to Hearth</h2>")
        self.intro = QLabel("Chat with language models on your own computer, offline once a model is here.")
        self.demo_button = QPushButton("Chat with the demo model now")
        self.demo_button.setAccessibleName("Chat with the demo model")
        self.demo_note = QLabel()
        self.discover_button = QPushButton("Pick a real model from the starter list…")
        self.discover_button.setAccessibleName("Pick a real model")
        self.discover_button.setToolTip("Open Discover: recommended models that fit this computer")
        for label in (self.intro, self.demo_note):
            label.setWordWrap(True)
        column = QWidget()  # a readable width: wrapped labels centred alone shrink to a sliver
        column.setFixedWidth(COLUMN_WIDTH)
        inner = QVBoxLayout(column)
        inner.setSpacing(12)
        for widget in (self.title, self.intro, self.demo_button, self.demo_note, self.discover_button):
            inner.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(column, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.demo_button.clicked.connect(self._chat_with_demo)
        self.discover_button.clicked.connect(self.pick_model)
        self.refresh()

    def refresh(self) -> None:
        """Read the demo model's state again (a file check and one small file)."""
        self._show_state()
        # a wrapped label inside a fixed-width column does not ask for its second line by itself
        self.demo_note.setMinimumHeight(self.demo_note.heightForWidth(COLUMN_WIDTH - 24))

    def _show_state(self) -> None:
        self._demo_path = demo_model.installed_path()
        self.demo_button.setEnabled(self._demo_path is not None)
        if self._demo_path is not None:
            self.demo_button.setToolTip(f"Load {self._demo_path.name} and start a new chat")
            self.demo_note.setText(f"{demo_model.LABEL}. Licence: {demo_model.LICENSE}.")
            return
        problem = demo_model.install_problem()
        self.demo_button.setToolTip("The demo model is not installed")
        if problem:
            self.demo_note.setText(f"The demo model could not be installed: {problem}")
        else:
            self.demo_note.setText("The demo model is not installed "
                                   "(`python -m app.library.demo_model install` fetches it).")

    def _chat_with_demo(self) -> None:
        if self._demo_path is not None:
            self.chat_with_demo.emit(str(self._demo_path))


def is_first_run(store, engine) -> bool:
    """No chats yet and no model loaded (an unreadable chat list is not a first run)."""
    try:
        chats = store.chats()
    except (sqlite3.Error, OSError):
        return False
    return not chats and engine.info is None


def add_first_run(window) -> FirstRunPanel | None:
    """Show the first-run screen in place of the empty chat page, if this is a first run."""
    if not is_first_run(window.store, window.engine):
        return None
    panel = FirstRunPanel()
    window.first_run = panel
    window.show_extra_page(panel)
    chat_page = window.chat_page

    def leave() -> None:
        if window.pages.currentWidget() is panel:
            window.show_page(chat_page)

    def chat_with_demo(path: str) -> None:
        leave()
        chat_page.load_path(path)
        window.new_chat()

    panel.chat_with_demo.connect(chat_with_demo)
    panel.pick_model.connect(partial(window.show_page, window.discover_page))
    chat_page.chat_changed.connect(leave)
    return panel
