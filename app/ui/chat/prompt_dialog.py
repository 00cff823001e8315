"""Show prompt: the exact text the model is given for this chat, special tokens included, as text and
as the model's tokens (the template's special tokens stand out).

The engine renders, counts and tokenizes it (never the GUI thread); the dialog only shows the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.engine.protocol import ChatMessage, EngineError, Rendered, Tokenized
from app.formatting import counted
from app.library.model_kind import template_words
from app.ui.chat.token_strip import TokenStrip
from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks


class PromptDialog(QDialog):
    def __init__(self, rendered: Rendered, parent: QWidget | None = None, tokens: Tokenized | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompt the model is given")
        self.resize(760, 560)
        tokens_words = counted(rendered.prompt_tokens, "token", grouped=True)
        summary = QLabel(f"{tokens_words} · template: {template_words(rendered.chat_template)}")
        summary.setTextFormat(Qt.TextFormat.PlainText)
        self.text = QPlainTextEdit(rendered.prompt)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Prompt text")
        self.tokens = TokenStrip("Prompt tokens", grow=False)  # scrolls inside the tab
        if tokens is not None:
            self.tokens.set_tokens(tokens.tokens)
        else:
            self.tokens.set_note("The tokens could not be listed.")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.text, "Text")
        self.tabs.addTab(self.tokens, "Tokens")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)


def show_prompt(parent: QWidget, tasks: BackgroundTasks, client, messages: Sequence[ChatMessage],
                on_shown=None, thinking: str = "default") -> None:
    """Render and tokenize `messages` in the engine off the GUI thread, then show the dialog."""
    messages = tuple(messages)

    def failed(error: Exception) -> None:
        text = error.message if isinstance(error, EngineError) else str(error)
        QMessageBox.warning(parent, "Show prompt", as_html(f"The prompt could not be rendered: {text}"))

    def both() -> tuple[Rendered, Tokenized | None]:
        rendered = client.render_prompt(messages, thinking)
        try:
            tokens = client.tokenize(messages=messages, thinking=thinking)
        except EngineError:  # the text alone is still worth showing
            tokens = None
        return rendered, tokens

    def rendered(results: tuple[Rendered, Tokenized | None]) -> None:
        dialog = PromptDialog(results[0], parent, results[1])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        if on_shown is not None:
            on_shown(dialog)

    tasks.run(both, rendered, failed)
