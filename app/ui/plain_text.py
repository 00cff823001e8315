"""Text from files, the Hub, the user or the model is shown as text, never as HTML.

A QLabel, a tooltip or a message box guesses rich text from a leading tag
(`Qt.mightBeRichText`), so a model named `<img src=/x.png>` would make Qt
load and draw that file. Labels get `PlainText`; tooltips and message boxes,
which have no format setting of their own, get the text escaped into HTML.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def as_html(text: str) -> str:
    """`text` escaped so a rich-text widget shows it exactly, line breaks included."""
    return QtGuiNamespace.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpacePre)
