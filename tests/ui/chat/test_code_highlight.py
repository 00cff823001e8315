"""Highlighted code blocks, math and long lines in chat messages: coloured, escaped, themed, contained."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QTextDocument, QTextFormat
from PySide6.QtWidgets import QApplication

from app.ui.chat.code_highlight import code_block_html, code_theme
from app.ui.chat.markdown import TAIL_LIMIT, render_markdown, split_streaming
from app.ui.chat.markdown_view import MarkdownView
from app.ui.chat.message_model import ChatItem, MessageModel
from app.ui.chat.message_view import MessageListView
from app.ui.theme import dark_palette

PYTHON = "```python\ndef greet(name: str) -> str:\n    return f\"Hello {name}\"  # say hi\n```\n"
HOSTILE = '<script>alert("x")</script>\n<img src="http://example.com/x.png">\na = b && c & d\n'


def fragments(view: MarkdownView):
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield block, it.fragment()
            it += 1
        block = block.next()


def in_code(block) -> bool:
    """A block of a code block (the only blocks given a background)."""
    return block.blockFormat().background().style() != Qt.BrushStyle.NoBrush


def code_colours(view: MarkdownView) -> set[str]:
    """The text colours used in code blocks (blocks with a background)."""
    return {fragment.charFormat().foreground().color().name() for block, fragment in fragments(view)
            if in_code(block) and fragment.charFormat().hasProperty(QTextFormat.Property.ForegroundBrush)}


class RecordingView(MarkdownView):
    """A MarkdownView that records any resource the document asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: list[str] = []

    def loadResource(self, kind, url):
        self.requested.append(url.toString())
        return None


@pytest.fixture
def light_palette():
    """The light palette during the test, and the one before it back afterwards."""
    app = QApplication.instance()
    before = app.palette()
    app.setPalette(app.style().standardPalette())
    yield app
    app.setPalette(before)


def test_python_code_gets_colour_spans(qtbot, light_palette):
    body, codes = render_markdown(PYTHON)
    assert codes == ['def greet(name: str) -> str:\n    return f"Hello {name}"  # say hi\n']
    assert '<span style="color:#' in body and "<pre" in body and "<table" not in body
    assert f"background-color:{code_theme(False).background}" in body
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown(PYTHON)
    assert len(code_colours(view)) >= 3  # keyword, name, string, comment… not one flat colour
    assert view.toPlainText().startswith("def greet(name: str) -> str:")


@pytest.mark.parametrize("language", ["python", "html", "", "no-such-language"])
def test_code_is_escaped_whatever_the_language(qtbot, language):
    body, codes = render_markdown(f"```{language}\n{HOSTILE}```\n")
    assert codes == [HOSTILE]
    for raw in ("<script", "<img", "&&", " & "):
        assert raw not in body
    assert "&lt;" in body and "&amp;" in body
    view = RecordingView()
    qtbot.addWidget(view)
    view.set_markdown(f"```{language}\n{HOSTILE}```\n\n![logo](http://example.com/logo.png)\n")
    view.show()
    qtbot.waitExposed(view)
    assert '<script>alert("x")</script>' in view.toPlainText()
    assert '<img src="http://example.com/x.png">' in view.toPlainText()
    assert "a = b && c & d" in view.toPlainText()
    assert not any(fragment.charFormat().isImageFormat() for _, fragment in fragments(view))
    assert view.requested == []  # nothing is ever loaded


def test_a_hostile_language_name_is_escaped_too():
    body, _codes = render_markdown('```<img src=x onerror="y">\ncode\n```\n')
    assert "<img" not in body


def test_a_theme_switch_changes_the_code_colours(qtbot, light_palette):
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown(PYTHON)
    light = code_colours(view)
    light_background = {block.blockFormat().background().color().name() for block, _ in fragments(view)
                        if in_code(block)}
    light_palette.setPalette(dark_palette())
    QApplication.processEvents()  # the palette reaches widgets as a posted event
    dark = code_colours(view)
    assert dark and dark != light
    dark_background = {block.blockFormat().background().color().name() for block, _ in fragments(view)
                       if in_code(block)}
    assert dark_background == {QColor(code_theme(True).background).name()} != light_background
    assert QColor(next(iter(dark_background))).lightness() < 128
    light_palette.setPalette(light_palette.style().standardPalette())
    QApplication.processEvents()
    assert code_colours(view) == light


def test_a_theme_switch_while_streaming_keeps_the_text(qtbot, light_palette):
    view = MarkdownView()
    qtbot.addWidget(view)
    text = "Intro\n\n" + PYTHON + "\nmore words\n"
    view.set_markdown(text[:60], streaming=True)
    light_palette.setPalette(dark_palette())
    QApplication.processEvents()
    view.set_markdown(text, streaming=True)
    view.set_markdown(text)
    full = MarkdownView()
    qtbot.addWidget(full)
    full.set_markdown(text)
    assert view.toPlainText() == full.toPlainText()
    assert code_colours(view) == code_colours(full)


def test_math_is_monospace_and_dollar_amounts_stay_text(qtbot):
    text = "Energy $E = mc^2$ where $c$ is fast. It costs $5 and $10, or $ 3 $.\n\n$$\n\\int_0^1 x^2 dx\n$$\n"
    body, _codes = render_markdown(text)
    assert "<code>E = mc^2</code>" in body and "<code>c</code>" in body
    assert "It costs $5 and $10, or $ 3 $." in body
    assert '<p align="center" style="font-family:monospace;">\\int_0^1 x^2 dx</p>' in body
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown(text)
    monospace = {fragment.text() for _, fragment in fragments(view)
                 if "monospace" in (fragment.charFormat().fontFamilies() or [])}
    assert {"E = mc^2", "c", "\\int_0^1 x^2 dx"} <= monospace
    assert "It costs $5 and $10, or $ 3 $." in view.toPlainText()


def test_math_is_escaped_and_underscores_are_not_emphasis():
    body, _codes = render_markdown("$a_1 * b_2 < c & d$ and $$<img src=x>$$")
    assert "<code>a_1 * b_2 &lt; c &amp; d</code>" in body
    assert "<em>" not in body and "<img" not in body


def test_an_unclosed_display_math_block_leaves_what_follows_alone():
    body, codes = render_markdown("$$\nx + y\n\nA paragraph.\n\n```python\nprint(1)\n```\n\nEnds in $$")
    assert "A paragraph." in body and "print" in body and len(codes) == 1
    assert 'style="font-family:monospace;">x + y' not in body  # no math block was made


def test_long_lines_wrap_inside_the_card(qtbot):
    model = MessageModel()
    view = MessageListView()
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.set_model(model)
    long_code = "x = '" + "a" * 3000 + "'\nprint(" + "value, " * 300 + ")\n"
    model.append(ChatItem(1, "assistant", f"Here:\n\n```python\n{long_code}```\n\n$$ {'y ' * 300} $$\n"))
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(20)
    card = view.cards()[0]
    assert card.width() <= view.viewport().width()
    assert card.body.document().size().width() <= card.body.viewport().width() + 1
    assert view.horizontalScrollBar().maximum() == 0


def test_copy_link_copies_the_whole_block(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown("Text\n\n" + PYTHON + "\n```\nsecond & last\n```\n")
    view.anchorClicked.emit(QUrl("copy:1"))
    assert QGuiApplication.clipboard().text() == "second & last\n"
    view.anchorClicked.emit(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text().startswith("def greet")


LONG_BLOCK = "Intro\n\n```python\n" + "".join(
    f"def function_{i}(value):\n    '''Number {i}.'''\n    return value * {i}  # <{i}> & more\n\n" for i in range(60)
) + "```\n\nAfter the code.\n"


def test_a_long_code_block_is_cut_at_a_top_level_line_while_it_streams():
    text = LONG_BLOCK[:2000]
    cut, forced = split_streaming(text)
    assert forced and len(text) - cut <= 4 * TAIL_LIMIT
    # Before the blank line that precedes a top-level line: the blank line goes with the next piece.
    assert text[cut:].startswith("\ndef function_") and text[cut - 2] != "\n"


@pytest.mark.parametrize("text", [LONG_BLOCK, LONG_BLOCK[:LONG_BLOCK.index("```\n\nAfter") + 4]],
                         ids=["text after the code", "ends with the code"])
def test_a_streamed_long_code_block_ends_equal_to_a_full_render(qtbot, text):
    streamed, full = MarkdownView(), MarkdownView()
    qtbot.addWidget(streamed)
    qtbot.addWidget(full)
    code = text.split("```python\n")[1].split("```")[0]
    for end in range(40, len(text) + 1, 97):
        streamed.set_markdown(text[:end], streaming=True)
        if end > 1500 and "```\n" not in text[end - 200:end]:
            # Mid-stream the block is in pieces on screen, yet it copies as one.
            assert streamed._forced
            assert streamed._code_blocks == [code[:len(streamed._code_blocks[0])]]
            assert len(streamed._code_blocks[0]) >= end - len("Intro\n\n```python\n") - 4  # but trailing spaces
    streamed.set_markdown(text, streaming=True)
    if "After the code" in text:
        assert not streamed._forced  # the finished block was laid out again whole
    streamed.set_markdown(text)
    full.set_markdown(text)
    assert streamed.toPlainText() == full.toPlainText()
    assert streamed._code_blocks == full._code_blocks == [code]
    assert code_colours(streamed) == code_colours(full)


def test_pieces_of_a_block_join_without_gaps_or_lost_blank_lines(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    for end in range(40, 2500, 97):
        view.set_markdown(LONG_BLOCK[:end], streaming=True)
    code = LONG_BLOCK[len("Intro\n\n```python\n"):2500 - 40]
    shown = view.toPlainText()
    assert code[:1500] in shown  # blank lines between functions kept across the cuts
    backgrounds = [in_code(block) for block in _blocks(view.document())]
    first, last = backgrounds.index(True), len(backgrounds) - 1 - backgrounds[::-1].index(True)
    assert all(backgrounds[first:last + 1])  # one unbroken code background


def _blocks(document: QTextDocument):
    block = document.begin()
    while block.isValid():
        yield block
        block = block.next()


def test_plain_and_unknown_code_is_escaped_without_spans():
    for language in ("", "no-such-language"):
        html = code_block_html("a < b & c", language, dark=False)
        assert "a &lt; b &amp; c" in html and "<span" not in html


def test_code_in_a_card_follows_the_light_theme_under_the_apps_style_sheet(qtbot, light_palette):
    """The cards' style sheet makes the browser's Base transparent: that must not read as dark."""
    from app.ui.theme import light_palette as hearth_light
    from app.ui.theme import style_sheet

    app = QApplication.instance()
    app.setPalette(hearth_light())
    before = app.styleSheet()
    app.setStyleSheet(style_sheet(False))
    try:
        view = MessageListView()
        qtbot.addWidget(view)
        model = MessageModel()
        view.set_model(model)
        model.append(ChatItem(1, "assistant", "```python\ndef f():\n    return 1\n```"))
        view.show()
        html = view.cards()[0].body.toHtml()
        assert code_theme(False).background.lower() in html.lower()
        assert code_theme(True).background.lower() not in html.lower()
    finally:
        app.setStyleSheet(before)


def test_messages_keep_a_readable_line_length_in_a_wide_window(qtbot):
    from app.ui.chat.message_view import READING_CHARS

    view = MessageListView()
    qtbot.addWidget(view)
    model = MessageModel()
    view.set_model(model)
    model.append(ChatItem(1, "assistant", "word " * 400))
    view.resize(2400, 600)
    view.show()
    qtbot.waitUntil(lambda: view.cards()[0].width() > 0)
    per_line = view.cards()[0].body.width() / view.fontMetrics().averageCharWidth()
    assert 70 <= per_line <= READING_CHARS + 4
    card = view.cards()[0]
    left = card.mapTo(view, card.rect().topLeft()).x()
    assert abs(left - (view.viewport().width() - card.width() - left)) <= 30  # centred
