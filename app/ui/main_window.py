"""The frame: the page buttons and chat list on the left, the pages on the right, the menus.

Everything it shows is built by the composition root (application.build_window) and handed in
as `WindowParts`. The window's own jobs are the page stack and navigation between pages and
chats, the status line, the window's geometry, and the order of closing (unsaved writes first,
then the parts that stop). The rest lives with the part that does it: the menus (menus.py),
the pages' model lists (model_lists.py), opening a model file (model_opening.py), chat
import and export (chat_files.py). The window talks to them through signals and public methods.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from app.store.changes import Change
from app.ui.changes import change_signal
from app.ui.chat_files import ChatFiles
from app.ui.engine_runtimes import EngineRuntimes
from app.ui.menus import build_menus
from app.ui.model_lists import ModelLists
from app.ui.model_opening import ModelOpener
from app.ui.widgets.nav_rail import NavRail
from app.ui.window_parts import WindowParts

__all__ = ["MainWindow", "WindowParts"]


class MainWindow(QMainWindow):
    closing = Signal()

    def __init__(self, parts: WindowParts) -> None:
        super().__init__()
        self.settings = parts.settings
        self.store = parts.store
        self.engine = parts.engine
        self.tasks = parts.tasks
        self.library = parts.library
        self.machine = parts.machine
        self.downloads = parts.downloads
        self.api_server = parts.api_server  # application.shutdown waits for it
        self.sidebar = parts.sidebar
        self.chat_page = parts.chat_page
        self.compare_page = parts.compare_page
        self.library_page = parts.library_page
        self.discover_page = parts.discover_page
        self.tools = parts.tools  # application.shutdown stops the MCP servers
        self.first_run: QWidget | None = None  # the welcome panel while it is shown (first_run.py)
        self.setWindowTitle("Hearth")
        self.resize(1280, 820)

        self.pages = QStackedWidget()
        self.rail = NavRail()
        self.page_buttons: dict[QWidget, QToolButton] = {}
        self.add_page("Chats", self.chat_page, "Your conversations", "nav-chats.svg")
        self.add_page("Compare", self.compare_page, "One prompt to several models, side by side",
                      "nav-compare.svg")
        self.add_page("Models", self.library_page, "Models on this computer", "nav-models.svg")
        self.add_page("Discover", self.discover_page, "Find and download models from Hugging Face",
                      "nav-discover.svg")
        self.downloads_button = self.rail.add(
            "downloads", "Downloads", "nav-downloads.svg", "Downloads in progress and done (Ctrl+5)",
            self.show_downloads)
        self._shortcut("Ctrl+5", self.show_downloads, "Show the downloads")

        self.splitter = QSplitter(Qt.Orientation.Horizontal)  # the chat list (Chats only) and the page
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 1020])
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.rail)
        row.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.model_lists = ModelLists(
            parts.settings, parts.library, parts.machine, parts.downloads, parts.endpoints, parts.engine,
            parts.tasks, parts.chat_page, parts.compare_page, parts.library_page, parts.discover_page, self)
        self.model_opener = ModelOpener(parts.settings, parts.library, parts.chat_page, parts.tasks, self)
        self.runtimes = EngineRuntimes(parts.settings, parts.tasks, parts.chat_page.load_settings.engine_picker,
                                       parts.library_page, self)
        self.chat_files = ChatFiles(parts.store, parts.chat_page, self.statusBar(), self)
        self.menus = build_menus(self, self, parts, self.chat_files, self.model_lists)
        # after the dialog (connected first): the Engine row and the Models page say what runs each model now
        if self.menus.runtimes is not None:
            self.menus.runtimes.triggered.connect(self.runtimes.refresh)
        self._connect()
        self.statusBar().showMessage("Ready")
        self._restore()
        self.model_lists.start()
        self.runtimes.refresh()

    def _connect(self) -> None:
        status = self.statusBar()
        for part in (self.model_lists, self.model_opener, self.runtimes):
            part.status.connect(status.showMessage)
            part.settings_changed.connect(self.save_settings)
        self.model_opener.opened.connect(self.new_chat)
        self.chat_files.imported.connect(self.show_chat)
        self.library_page.open_in_chat.connect(self.model_opener.open_with_model)
        self.library.first_scan_done.connect(self._on_first_scan)
        self.sidebar.chat_selected.connect(self._open_chat)
        self.sidebar.new_chat_requested.connect(self.new_chat)
        change_signal(self.store).changed.connect(self._on_store_changed)
        self.chat_page.session.opened.connect(self._on_chat_opened)
        self.chat_page.reply_finished.connect(lambda _done: self.save_settings())  # the model's sampling is kept
        self.closing.connect(self.model_opener.close)
        self.closing.connect(self.downloads.shutdown)
        self.closing.connect(self.runtimes.stop_servers)  # every llama-server Hearth started stops with it
        self.compare_page.controller.busy_changed.connect(self._on_compare_busy)

    # ------------------------------------------------------------ pages

    def add_page(self, name: str, page: QWidget, tip: str, icon: str = "") -> None:
        """A page in the stack with its button on the rail and a Ctrl+number shortcut."""
        if self.pages.indexOf(page) < 0:
            self.pages.addWidget(page)
        number = len(self.page_buttons) + 1
        button = self.rail.add(name.lower(), name, icon, f"{tip} (Ctrl+{number})", lambda: self.show_page(page))
        self.page_buttons[page] = button
        self._shortcut(f"Ctrl+{number}", lambda: self.show_page(page), f"Show the {name} page")
        if number == 1:
            button.setChecked(True)

    def _shortcut(self, keys: str, slot: Callable[[], object], text: str) -> QAction:
        """A window-wide shortcut; `text` names it in Help → Keyboard shortcuts."""
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def show_downloads(self) -> None:
        """Discover's Downloads tab, with the rail's Downloads button checked."""
        self.show_page(self.discover_page)
        self.discover_page.show_downloads()
        self.downloads_button.setChecked(True)

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        if page in self.page_buttons:
            self.page_buttons[page].setChecked(True)
        self.sidebar.setVisible(page is self.chat_page)

    def _on_compare_busy(self, busy: bool) -> None:
        """Compare runs its columns on the chat's engine: the chat waits until they are done."""
        self.chat_page.setEnabled(not busy)
        if busy:
            self.statusBar().showMessage("Compare is using the model engine: the chat is back when it finishes "
                                         "or you press Stop.")
        else:
            self.statusBar().clearMessage()

    def show_welcome(self, panel: QWidget) -> None:
        """The first-run panel, a page without a button, shown in place of the chat page until it is left."""
        self.first_run = panel
        if self.pages.indexOf(panel) < 0:
            self.pages.addWidget(panel)
        self.pages.setCurrentWidget(panel)

    def showing(self, page: QWidget) -> bool:
        """Whether `page` is the page on screen now."""
        return self.pages.currentWidget() is page

    # ------------------------------------------------------------ chats

    def new_chat(self) -> None:
        self.show_page(self.chat_page)
        self.chat_page.new_chat()  # announced: the list shows it, and opening it marks it there

    def show_chat(self, chat_id: int) -> None:
        """A chat made elsewhere (an import, announced: the list has it) shown on the chat page and chosen."""
        self.show_page(self.chat_page)
        self.sidebar.select(chat_id)

    def _open_chat(self, chat_id: int) -> None:
        if not self.chat_page.session.open(chat_id):  # unreadable: the list goes back to the chat on screen
            QTimer.singleShot(0, lambda: self.sidebar.select(self.chat_page.chat_id, emit=False))
            return
        self.settings.selected_chat = chat_id

    def _on_chat_opened(self, chat) -> None:
        """The chat page shows a chat (chosen in the list, new, imported): the list marks it, the next start opens it.
        The list's order and titles follow the store's announcements by themselves."""
        self.sidebar.select(chat.id, emit=False)
        self.settings.selected_chat = chat.id

    def _on_store_changed(self, changes) -> None:
        if Change("deleted", "chat", self.chat_page.chat_id) in changes:  # the chat on screen went (the sidebar)
            self._on_chat_deleted()

    def _on_chat_deleted(self) -> None:
        chats = self.store.chats()
        if chats:
            self.sidebar.select(chats[0].id)
        else:
            self.new_chat()

    def _on_first_scan(self, usable: bool) -> None:
        if not usable and self.first_run is None:  # the welcome card offers the starter models itself
            self.show_page(self.discover_page)  # nothing to chat with yet: the starter models

    # ------------------------------------------------------------ state

    def _restore(self) -> None:
        s = self.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        if s.splitter_state:
            states = s.splitter_state.split("|")
            self.splitter.restoreState(QByteArray.fromBase64(states[0].encode()))
            if len(states) > 1:
                self.chat_page.splitter.restoreState(QByteArray.fromBase64(states[1].encode()))
        self.chat_page.load_settings.set_values(s)
        chats = self.sidebar.model.chats()
        if self.sidebar.model.problem:
            self.statusBar().showMessage(self.sidebar.model.problem)
        chosen = next((c.id for c in chats if c.id == s.selected_chat), chats[0].id if chats else 0)
        if chosen:
            self.sidebar.select(chosen, emit=False)
            self.chat_page.session.open(chosen)
        QTimer.singleShot(0, self.chat_page.focus_composer)

    def save_settings(self) -> None:
        s = self.settings
        s.window_geometry = _base64(self.saveGeometry())
        s.splitter_state = "|".join(_base64(sp.saveState()) for sp in (self.splitter, self.chat_page.splitter))
        s.selected_chat = self.chat_page.chat_id
        try:
            s.save()
        except OSError as exc:
            self.statusBar().showMessage(f"Could not save settings: {exc}", 8000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.chat_page.session.finish_early()
        self.chat_page.session.flush_pending()
        if not self.store.retry() and not self._quit_without_saving():
            event.ignore()
            return
        self.library.close()  # background jobs that finish from now on find a closed window: they stop
        self.closing.emit()
        self.save_settings()
        self.api_server.begin_stop()  # application.shutdown waits for it within the quit's budget
        super().closeEvent(event)

    def _quit_without_saving(self) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "Quit without saving?",
                          f"{self.store.problem}\n\n{self.store.pending} change(s) to your chats are not saved yet "
                          "and are lost if you quit now.", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        quit_button = box.addButton("Quit without saving", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton("Keep Hearth open", QMessageBox.ButtonRole.RejectRole))
        box.exec()
        if box.clickedButton() is not quit_button:
            return False
        self.store.discard()
        return True


def _base64(data: QByteArray) -> str:
    """Saved window state as text for the settings file."""
    return bytes(data.toBase64().data()).decode("ascii")
