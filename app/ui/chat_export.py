"""File → Export chat as Markdown… / JSON…: ask where, write it, say what happened."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QStatusBar, QWidget

from app.store.export import chat_to_json, chat_to_markdown
from app.ui.plain_text import as_html


def export_chat(parent: QWidget, store, chat_id: int, kind: str, status: QStatusBar) -> None:
    chat = store.chat(chat_id)
    if chat is None:
        return
    suffix = ".md" if kind == "md" else ".json"
    path, _ = QFileDialog.getSaveFileName(parent, "Export chat", str(Path.home() / f"{chat.title[:40]}{suffix}"),
                                          "Markdown (*.md)" if kind == "md" else "JSON (*.json)")
    if not path:
        return
    messages = store.messages(chat.id)
    text = chat_to_markdown(chat, messages) if kind == "md" else chat_to_json(chat, messages)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        QMessageBox.warning(parent, "Export failed", as_html(f"Could not write {path}: {exc.strerror or exc}"))
    else:
        status.showMessage(f"Exported to {path}", 5000)
