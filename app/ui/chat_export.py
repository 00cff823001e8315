"""File → Export chat as Markdown… / JSON… and Import chat…: ask which file, do it, say what happened."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from app.chat.message import Message
from app.store.export import chat_to_json, chat_to_markdown, picture_file
from app.store.importing import ChatImportError, import_chat
from app.store.pending_writes import WRITE_ERRORS, PendingWrites, describe_write_error
from app.ui import file_dialogs
from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks


def export_chat(parent: QWidget, store: PendingWrites, chat_id: int, kind: str, status: QStatusBar,
                tasks: BackgroundTasks | None = None) -> None:
    """Ask where, then write the export (and a Markdown export's pictures) off the GUI thread with `tasks`:
    a chat's pictures can be many megabytes. What is written is read from the store first, here."""
    chat = store.chat(chat_id)
    if chat is None:
        return
    suffix = ".md" if kind == "md" else ".json"
    path = file_dialogs.save_file(parent, "chat-export", "Export chat", f"{chat.title[:40]}{suffix}",
                                  "Markdown (*.md)" if kind == "md" else "JSON (*.json)")
    if not path:
        return
    messages = store.all_messages(chat.id)  # every alternative, the shown ones marked
    read = store.read_image  # (the image folder's files only: safe on another thread)

    def work() -> None:
        text = chat_to_markdown(chat, messages) if kind == "md" else chat_to_json(chat, messages, read)
        Path(path).write_text(text, encoding="utf-8")
        if kind == "md":
            write_pictures(read, messages, path)

    def failed(exc: Exception) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"a picture is missing ({exc})"
        QMessageBox.warning(parent, "Export failed", as_html(f"Could not write {path}: {reason}"))

    def done(_result: object = None) -> None:
        status.showMessage(f"Exported to {path}", 5000)

    if tasks is None:
        try:
            work()
        except (OSError, KeyError) as exc:
            failed(exc)
            return
        done()
    else:
        tasks.run(work, done, failed)


def write_export(parent: QWidget, path: str, text: str) -> bool:
    """Write an export; a failure (full disk, no permission) is said in a dialog and gives False."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        QMessageBox.warning(parent, "Export failed", as_html(f"Could not write {path}: {exc.strerror or exc}"))
        return False
    return True


def write_pictures(read: Callable[[str], bytes], messages: list[Message], path: str) -> None:
    """A Markdown export's pictures, as files in the folder its links name (export.picture_file);
    OSError or KeyError (a picture gone) when one cannot be written."""
    for part in {p.sha256: p for m in messages for p in m.images}.values():
        target = Path(path).parent / picture_file(part)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read(part.sha256))


MAX_IMPORT_BYTES = 256 * 1024 * 1024


def import_chat_file(parent: QWidget, store: PendingWrites, status: QStatusBar, path: str = "") -> int:
    """Read a chat exported as JSON into a new chat through the window's one writer (which announces it);
    its id, or 0 (and a message saying why) when it fails."""
    if not path:
        path = file_dialogs.open_file(parent, "chat-import", "Import chat", "Hearth chat (*.json)")
    if not path:
        return 0
    try:
        if Path(path).stat().st_size > MAX_IMPORT_BYTES:
            raise ChatImportError("This file is too large to be a chat export.")
        text = Path(path).read_text(encoding="utf-8")
        if store.pending:  # the disk refused writes just now: an import would wait behind them, all of it
            raise ChatImportError("some messages are still waiting to be saved: press Retry once there is room "
                                  "on the disk, then import again.")
        # all at once or nothing (one transaction), so not queued behind a full disk
        chat = import_chat(store, text)
    except (*WRITE_ERRORS, UnicodeDecodeError, ChatImportError) as exc:
        if isinstance(exc, sqlite3.Error):
            reason = describe_write_error(exc)
        else:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        QMessageBox.warning(parent, "Import failed", as_html(f"Could not import {path}: {reason}"))
        return 0
    status.showMessage(f"Imported “{chat.title}”", 5000)
    return chat.id
