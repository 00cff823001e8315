"""File → Hugging Face token…: store a read token (checked with the Hub first) or remove it."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QStatusBar, QWidget

from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks


def ask_token(parent: QWidget, tasks: BackgroundTasks, status: QStatusBar) -> None:
    from app.hub.auth import forget_token, save_token

    token, ok = QInputDialog.getText(
        parent, "Hugging Face token",
        "Paste a read token from huggingface.co/settings/tokens (leave empty to remove the stored one):",
        QLineEdit.EchoMode.Password)
    if not ok:
        return
    if not token.strip():
        tasks.run(forget_token, lambda _r: status.showMessage("Hub token removed", 5000),
                  lambda error: status.showMessage(f"Could not remove the token: {error}", 8000))
        return
    status.showMessage("Checking the token…")

    def refused(error: Exception) -> None:
        message = getattr(error, "message", "The token was refused.")
        QMessageBox.warning(parent, "Hugging Face token", as_html(message))

    tasks.run(lambda: save_token(token), lambda name: status.showMessage(f"Signed in to Hugging Face as {name}", 8000),
              refused)
