"""The in-app help: tokens, the context window, sampling, GPU layers and quantization explained.

One non-modal window per main window (`HelpOpener` makes it on first use), with a QTextBrowser
showing the fixed HTML of help_text.py; `open_at(anchor)` shows it scrolled to a section.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from app.bundled import bundled_file
from app.ui.help_text import PICTURES, SECTIONS, help_html

TITLE = "Tokens, context and sampling explained"


class HelpPage(QDialog):
    """The help text in a browser that follows only its own #anchors (nothing outside is loaded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Hearth · {TITLE}")
        self.setModal(False)
        self.resize(640, 720)
        self.anchor = ""  # the section last asked for
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Help text")
        self.browser.setOpenLinks(False)  # only in-page anchors are followed, by _follow
        for name in PICTURES:  # handed over here, so the browser never looks anything up itself
            path = bundled_file("resources", name)
            image = QImage(str(path)) if path is not None else QImage()
            if not image.isNull():
                self.browser.document().addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        self.browser.setHtml(help_html())
        self.browser.anchorClicked.connect(self._follow)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def open_at(self, anchor: str = "") -> None:
        """Show the window (raised) at the section `anchor` (one of help_text.SECTIONS), or at the top."""
        self.show()
        self.raise_()
        self.activateWindow()
        self.go_to(anchor)

    def go_to(self, anchor: str) -> None:
        self.anchor = anchor if anchor in SECTIONS else ""
        if self.anchor:
            self.browser.scrollToAnchor(self.anchor)
        else:
            self.browser.verticalScrollBar().setValue(0)

    def _follow(self, url: QUrl) -> None:
        if not url.scheme() and url.fragment():
            self.go_to(url.fragment() if url.fragment() in SECTIONS else "")


class HelpOpener:
    """Opens the one help window of `parent`, made on first use; connect "What's this?" signals to `open_at`."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self.page: HelpPage | None = None

    def open_at(self, anchor: str = "") -> HelpPage:
        if self.page is None:
            self.page = HelpPage(self._parent)
        self.page.open_at(anchor)
        return self.page
