"""A text as the model reads it: its tokens side by side in alternating tints, with the count.

Spaces show as ·, tabs as →, newlines as ↵ (and a line break), so a token that starts with a space
is plain to see; a template's control tokens (<|im_start|>) stand out in bold on their own tint.
Hovering a token shows its id. The tokens come from the engine (the model's own tokenizer): this
widget only draws them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QCursor, QPalette
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

from app.ui.chat.markdown_view import MarkdownView

TokenRow = tuple[int, bytes, bool]  # (id, the bytes it prints, a control token): protocol.Tokenized's
TINTS = ("rgba(58, 123, 213, 0.16)", "rgba(230, 160, 40, 0.22)")  # alternate, so two tokens never run together
SPECIAL = "rgba(150, 70, 200, 0.30)"
MAX_SHOWN = 4000  # a very long prompt: the first tokens are drawn, the count says how many there are


def token_text(piece: bytes) -> str:
    """A token's bytes as text; a piece of a character split over tokens shows as its bytes (<0xE2>)."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"<0x{b:02X}>" for b in piece)


def shown(text: str) -> str:
    """Spaces, tabs and newlines made visible, as HTML (a newline also breaks the line)."""
    escaped = html.escape(text).replace(" ", "·").replace("\t", "→")
    return escaped.replace("\n", "↵<br>")


def strip_html(tokens: Sequence[TokenRow], color: str = "#000000") -> str:
    """The tokens as links k:<index>, tinted in turn (control tokens in bold, on their own tint)."""
    spans = []
    for index, (_token, piece, special) in enumerate(tokens[:MAX_SHOWN]):
        background = SPECIAL if special else TINTS[index % 2]
        weight = "bold" if special else "normal"
        spans.append(f'<a href="k:{index}" style="text-decoration: none; color: {color}; font-weight: {weight}; '
                     f'background-color: {background};">{shown(token_text(piece)) or "∅"}</a>')
    more = f" … and {len(tokens) - MAX_SHOWN} more" if len(tokens) > MAX_SHOWN else ""
    return '<p style="white-space: pre-wrap;">' + "".join(spans) + html.escape(more) + "</p>"


def count_words(tokens: Sequence[TokenRow], chars: int) -> str:
    special = sum(1 for _t, _p, s in tokens if s)
    words = f"{len(tokens)} token{'s' if len(tokens) != 1 else ''}"
    if special:
        words += f" ({special} of them the template's special tokens, in bold)"
    if tokens and chars:
        words += f" · {chars / len(tokens):.1f} characters a token"
    return words


class TokenStrip(QWidget):
    """The tokens of one text, and a line with their count (or why there are none)."""

    def __init__(self, name: str = "Tokens", parent: QWidget | None = None, grow: bool = True) -> None:
        """`grow`: as tall as its tokens (else a fixed-size view that scrolls)."""
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = MarkdownView(grow=grow)
        self.text.setAccessibleName(name)
        self.text.setMouseTracking(True)
        self.text.highlighted.connect(self._hovered)
        layout.addWidget(self.text, 1)
        self.count = QLabel()
        self.count.setObjectName("cardStats")
        self.count.setAccessibleName(f"{name} count")
        self.count.setWordWrap(True)
        layout.addWidget(self.count)
        self.tokens: tuple[TokenRow, ...] = ()

    def set_tokens(self, tokens: Sequence[TokenRow]) -> None:
        self.tokens = tuple(tokens)
        color = self.palette().color(QPalette.ColorRole.Text).name()
        self.text.setHtml(strip_html(self.tokens, color))
        self.text._fit_height()
        chars = sum(len(token_text(piece)) for _t, piece, _s in self.tokens)
        self.count.setText(count_words(self.tokens, chars) + " · hover a token for its id")

    def set_note(self, words: str) -> None:
        """No tokens to show, and why (no model, a remote model, the engine's error)."""
        self.tokens = ()
        self.text.setHtml("")
        self.text._fit_height()
        self.count.setText(words)

    def tip(self, index: int) -> str:
        token, piece, special = self.tokens[index]
        kind = " · a control token of the template" if special else ""
        where = f"token {index + 1} of {len(self.tokens)}"
        return f"“{token_text(piece)}” · id {token}{kind} · {where}" if token >= 0 else f"a picture · {where}"

    def _hovered(self, url: QUrl) -> None:
        if url.scheme() == "k":
            index = int(url.path() or url.toString().split(":", 1)[1])
            if 0 <= index < len(self.tokens):
                QToolTip.showText(QCursor.pos() + QPoint(12, 12), self.tip(index), self)
