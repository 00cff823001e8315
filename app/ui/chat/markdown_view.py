"""MarkdownView: a message's Markdown as rich text, laid out piece by piece while it streams.

Finished blocks are laid out once and only the last one again on each flush; a
long block is cut into pieces and laid out whole once it is finished. Code is
highlighted in the palette's light or dark colours (code_highlight.py).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QPalette, QTextCursor, QTextDocument, QTextDocumentFragment
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from app.ui.chat.markdown import join_code_blocks, open_fence, render_markdown, split_streaming


class MarkdownView(QTextBrowser):
    """A QTextBrowser that grows to its content.

    It never loads anything: the Markdown renderer emits no <img> or other
    resource references (model images become text), and links only open
    in the browser when clicked. Code colours follow the palette: a change
    between light and dark renders the text again.
    """

    copy_code = Signal(str)

    def __init__(self, parent: QWidget | None = None, grow: bool = True) -> None:
        super().__init__(parent)
        self.grow = grow  # False: a fixed-size reader that scrolls (the model card)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        if grow:
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().setDocumentMargin(2)
        # The height follows the content: measured after each change and on resize.
        self.anchorClicked.connect(self._on_anchor)
        self._code_blocks: list[str] = []
        self._source: str | None = None
        # While streaming: the source already laid out, its code blocks, where the still-changing
        # last block starts, and whether a long block was cut to keep flushes cheap (then `_clean`:
        # the source length, code count and document position before that block).
        self._stable = ""
        self._stable_codes: list[str] = []
        self._tail_pos = 0
        self._forced = False
        self._clean = (0, 0, 0)
        self._streamed = False
        self._dark = self._palette_is_dark()  # the code colours the document was rendered with

    def _palette_is_dark(self) -> bool:
        # light text means a dark theme; Base is no guide (the cards' style sheet makes it transparent)
        return self.palette().color(QPalette.ColorRole.Text).lightness() > 128

    def set_markdown(self, text: str, streaming: bool = False) -> None:
        if text == self._source and not (self._streamed and not streaming):
            return
        self._source = text
        if streaming or (self._streamed and text.startswith(self._stable)):
            self._render_incrementally(text, final=not streaming)
        else:
            self._reset_streaming()
            body, self._code_blocks = render_markdown(text, dark=self._dark)
            self.setHtml(body.strip())  # a line break after the last tag would become a space
        self._streamed = streaming
        self._fit_height()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._palette_is_dark() != self._dark:
            self._dark = not self._dark
            source, streaming = self._source, self._streamed
            if source is not None:  # render everything again with the other colours
                self.clear()
                self._source, self._streamed = None, False
                self._reset_streaming()
                self.set_markdown(source, streaming)

    def _reset_streaming(self) -> None:
        self._stable, self._stable_codes, self._tail_pos, self._forced, self._clean = "", [], 0, False, (0, 0, 0)

    def _render_incrementally(self, text: str, final: bool) -> None:
        """Lay out only what changed: finished blocks once, then the last block again.

        Re-rendering a long reply on every flush costs tens of milliseconds; this
        keeps each flush proportional to the last block. A block laid out in cut pieces
        (a split paragraph, code colours restarted) is laid out again whole once it is
        finished, or at the end.
        """
        if not text.startswith(self._stable):
            self.clear()
            self._reset_streaming()
        cut, forced = split_streaming(text, len(self._stable)) if not final else (len(self._stable), False)
        if self._forced and (final or (cut > len(self._stable) and not forced)):
            length, code_count, self._tail_pos = self._clean
            self._stable, self._stable_codes, self._forced = text[:length], self._stable_codes[:code_count], False
            cut = max(cut, length) if not final else length
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()  # one layout pass for the whole change
        cursor.setPosition(self._tail_pos)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if cut > len(self._stable):
            fence = open_fence(text, len(self._stable))  # the piece may go on from a cut inside code
            html, codes = render_markdown(text[len(self._stable):cut], self._next_code(fence), self._dark, fence,
                                          unfinished=bool(open_fence(text, cut)))
            _insert_blocks(cursor, html, new_block=self._tail_pos > 0)
            self._stable_codes = join_code_blocks(self._stable_codes, codes, bool(fence))
            self._stable = text[:cut]
            self._tail_pos = cursor.position()
            self._forced = self._forced or forced
            if not self._forced:
                self._clean = (cut, len(self._stable_codes), self._tail_pos)
        tail_codes: list[str] = []
        tail = text[len(self._stable):]
        fence = open_fence(text, len(self._stable))
        if tail.strip():
            html, tail_codes = render_markdown(tail, self._next_code(fence), self._dark, fence)
            _insert_blocks(cursor, html, new_block=self._tail_pos > 0)
        cursor.endEditBlock()
        self._code_blocks = join_code_blocks(self._stable_codes, tail_codes, bool(fence))

    def _next_code(self, fence: str) -> int:
        """The number of the next piece's first code block (the last one again when it goes on)."""
        return len(self._stable_codes) - 1 if fence and self._stable_codes else len(self._stable_codes)

    def _fit_height(self) -> None:
        if not self.grow:
            return
        document = self.document()
        width = self.viewport().width()
        if document.textWidth() != width:
            document.setTextWidth(width)
        height = int(document.size().height()) + 6
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == "copy":
            index = int(url.path() or url.toString().split(":", 1)[1])
            if 0 <= index < len(self._code_blocks):
                QGuiApplication.clipboard().setText(self._code_blocks[index])
                self.copy_code.emit(self._code_blocks[index])
        elif url.scheme() in ("http", "https", "mailto"):
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(url)

    def sizeHint(self) -> QSize:
        return QSize(200, int(self.document().size().height()) + 6)


def _insert_blocks(cursor: QTextCursor, html: str, new_block: bool) -> None:
    """Add rendered HTML at the cursor as blocks of their own (after a new block if `new_block`).

    Qt merges a fragment's first block into the block at the cursor and keeps that
    block's format (a code line would take the alignment of a Copy line before it),
    so the block is given the fragment's first format before the rest goes in.
    A table needs no new block: its fragment starts with an empty one.
    """
    piece = QTextDocument()
    piece.setHtml(html.strip())  # a line break after the last tag would become a space
    first = piece.begin()
    if not first.text() and first.next().isValid() and QTextCursor(first.next()).currentTable():
        pass  # Qt puts an empty block before a table: let it be the block at the cursor
    elif new_block:
        cursor.insertBlock(first.blockFormat(), first.charFormat())
    else:
        cursor.setBlockFormat(first.blockFormat())
        cursor.setBlockCharFormat(first.charFormat())
    cursor.insertFragment(QTextDocumentFragment(piece))
