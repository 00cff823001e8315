"""Streaming Markdown: laid out piece by piece, it ends up as the full render."""

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from app.ui.chat.markdown import TAIL_LIMIT, render_markdown, split_streaming
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


def test_only_web_and_mail_addresses_become_links():
    html, _ = render_markdown("[a](javascript:alert(1)) [b](https://x.org) [c](file:///etc/passwd) "
                              "[d](mailto:me@x.org) ![i](data:image/png;base64,AAA)")
    assert '<a href="https://x.org">b</a>' in html and '<a href="mailto:me@x.org">d</a>' in html
    assert 'href="javascript:' not in html and 'href="file:' not in html and "<img" not in html
