"""Data from a file, the Hub, the user or the model is never rendered as HTML by a label or tooltip."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QWidget

from app.engine import SamplingParams
from tests.support.tiny_gguf import write_tiny_model
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply

HOSTILE_NAME = "<img src=/tmp/hearth-hostile.png>"
HOSTILE_MESSAGE = "<b>bold</b> <img src=/tmp/hearth-title.png>"
MARKERS = ("<img", "<b>")


def rendered_as_html(text: str) -> bool:
    """Qt would parse `text` as rich text and it carries one of our tags unescaped."""
    return QtGuiNamespace.mightBeRichText(text) and any(marker in text for marker in MARKERS)


def tooltips_of(model: QAbstractItemModel) -> list[str]:
    tips = []
    for row in range(model.rowCount()):
        column = 0
        while (index := model.index(row, column)).isValid():
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            if isinstance(tip, str):
                tips.append(tip)
            column += 1
    return tips


def test_no_label_or_tooltip_renders_hostile_names_as_html(qtbot, window, tmp_path):
    # the name shown comes from the file name, the header's name goes to tooltips: both are hostile
    model_path = write_tiny_model(tmp_path / "<b>hostile <img src=x>.gguf", scripted=True, name=HOSTILE_NAME)
    page = window.chat_page
    load(qtbot, window, model_path)
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0), emit=True)
    type_and_send(qtbot, page, HOSTILE_MESSAGE)
    wait_reply(qtbot, page)
    page.show_notice(f"A reply is still being written in “{HOSTILE_MESSAGE}”")
    window.library_page.set_models(window.library.models)

    labels = window.findChildren(QLabel)
    showing = [label for label in labels if any(marker in label.text() for marker in MARKERS)]
    # the chat title, the card titles and the load-status line at least
    assert len(showing) >= 3, [label.text() for label in labels]
    for label in showing:
        assert label.textFormat() == Qt.TextFormat.PlainText, (label.objectName(), label.text())
    tips = [w.toolTip() for w in window.findChildren(QWidget)]
    for view in window.findChildren(QAbstractItemView):
        if view.model() is not None:
            tips += tooltips_of(view.model())
    for combo in window.findChildren(QComboBox):
        tips += tooltips_of(combo.model())
    assert any("hostile" in tip or "&lt;b&gt;" in tip for tip in tips)  # the data is there, escaped
    assert [tip for tip in tips if rendered_as_html(tip)] == []
