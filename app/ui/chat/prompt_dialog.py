"""Show prompt: the exact text the model is given for this chat, special tokens included.

The engine renders and counts it (never the GUI thread); the dialog only shows the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget

from app.engine.protocol import ChatMessage, EngineError, Rendered
from app.library.model_kind import template_words
from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks


class PromptDialog(QDialog):
    def __init__(self, rendered: Rendered, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompt the model is given")
        self.resize(760, 560)
        summary = QLabel(f"{rendered.prompt_tokens} tokens · template: {template_words(rendered.chat_template)}")
        summary.setTextFormat(Qt.TextFormat.PlainText)
        self.text = QPlainTextEdit(rendered.prompt)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Prompt text")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)


def show_prompt(parent: QWidget, tasks: BackgroundTasks, client, messages: Sequence[ChatMessage],
                on_shown=None) -> None:
    """Render `messages` in the engine off the GUI thread, then show the dialog."""
    messages = tuple(messages)

    def failed(error: Exception) -> None:
        text = error.message if isinstance(error, EngineError) else str(error)
        QMessageBox.warning(parent, "Show prompt", as_html(f"The prompt could not be rendered: {text}"))

    def rendered(result: Rendered) -> None:
        dialog = PromptDialog(result, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        if on_shown is not None:
            on_shown(dialog)

    tasks.run(lambda: client.render_prompt(messages), rendered, failed)
