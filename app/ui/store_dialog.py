"""At start: open the chat database, or ask what to do when it is damaged or cannot be written."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.store import ConversationStore
from app.store.opening import StoreOpenError, open_read_only, open_store, set_aside

SET_ASIDE = "Keep it aside and start fresh"
READ_ONLY = "Open read-only"
QUIT = "Quit"


def store_problem_box(error: StoreOpenError, offer_read_only: bool, parent: QWidget | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Hearth: chat database")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(str(error))
    if error.newer:
        info = "Update Hearth to write to it, or read your chats now without saving; the file is left as it is."
    elif error.damaged:
        info = ("Hearth can rename the damaged file (it is kept, never deleted) and start a new, empty "
                "database, or open read-only whatever can still be read.")
    else:
        info = "Free space or fix the folder's permissions and start Hearth again, or read your chats without saving."
    box.setInformativeText(info)
    if error.damaged:
        box.addButton(SET_ASIDE, QMessageBox.ButtonRole.AcceptRole)
    if offer_read_only:
        box.addButton(READ_ONLY, QMessageBox.ButtonRole.ActionRole)
    box.setDefaultButton(box.addButton(QUIT, QMessageBox.ButtonRole.RejectRole))
    return box


def ask(error: StoreOpenError, offer_read_only: bool, parent: QWidget | None = None) -> str:
    """The text of the button chosen (QUIT when the dialog is closed)."""
    box = store_problem_box(error, offer_read_only, parent)
    box.exec()
    clicked = box.clickedButton()
    return clicked.text() if clicked is not None else QUIT


def open_or_ask(path: Path, parent: QWidget | None = None) -> tuple[ConversationStore | None, str]:
    """The store to run with (None when the user chose to quit) and a note for the status bar."""
    tried_read_only = False
    try:
        store = open_store(path)
    except StoreOpenError as first:
        error = first
    else:
        upgraded = f"Your chats were upgraded for this Hearth; the file as it was is kept as {store.kept_copy}."
        return store, upgraded if store.kept_copy else ""
    while True:
        choice = ask(error, error.can_read_only and not tried_read_only, parent)
        if choice == SET_ASIDE:
            try:
                kept = set_aside(path)
            except OSError as exc:
                error = StoreOpenError(path, False, f"it could not be renamed: {exc.strerror or exc}")
                continue
            try:
                store = open_store(path)
            except StoreOpenError as again:
                error = again
                continue
            return store, f"The damaged chat database was kept as {kept}; a new one was started."
        if choice == READ_ONLY:
            tried_read_only = True
            try:
                return open_read_only(path), "Chats opened read-only: nothing is saved."
            except StoreOpenError as unreadable:
                error = unreadable
                continue
        return None, ""
