"""Streaming Markdown: laid out piece by piece, it ends up as the full render."""

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from app.ui.chat.markdown import TAIL_LIMIT, split_streaming
from app.ui.chat.message_view import MarkdownView

TEXT = (
    "# Plan\n\nFirst paragraph with **bold** text.\n\n```python\nprint('a')\n\nprint('b')\n```\n\n"
    "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nLast words " + "word " * 300 + "\n\n```sh\nls\n```\n"
)


def test_split_keeps_code_fences_whole_and_bounds_the_tail():
    cut, forced = split_streaming("para one\n\n```\ncode\n\nmore code")
    assert cut == len("para one\n\n") and not forced
    long = "x " * (TAIL_LIMIT * 2)
    cut, forced = split_streaming(long)
    assert forced and len(long) - cut <= TAIL_LIMIT


def test_streamed_view_ends_equal_to_a_full_render(qtbot):
    streamed, full = MarkdownView(), MarkdownView()
    qtbot.addWidget(streamed)
    qtbot.addWidget(full)
    for end in range(1, len(TEXT) + 1, 37):
        streamed.set_markdown(TEXT[:end], streaming=True)
    streamed.set_markdown(TEXT, streaming=False)
    full.set_markdown(TEXT)
    assert streamed.toPlainText() == full.toPlainText()
    assert streamed._code_blocks == full._code_blocks == ["print('a')\n\nprint('b')\n", "ls\n"]
    streamed.anchorClicked.emit(QUrl("copy:1"))  # the second block's Copy link
    assert QGuiApplication.clipboard().text() == "ls\n"
