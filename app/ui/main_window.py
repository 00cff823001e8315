"""The frame: the page buttons and chat list on the left, the pages on the right, the menus.

Everything it shows is built by the composition root (application.build_window) and
handed in as `WindowParts`; the window lays the parts out and talks to them through
their signals and public methods only.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from app.library.gguf_info import GGUFFileError, read_gguf_info
from app.settings import Settings
from app.store.pending_writes import PendingWrites
from app.ui.chat.chat_list import ChatSidebar
from app.ui.chat.chat_page import ChatPage
from app.ui.compare.compare_page import ComparePage
from app.ui.machine import MachineInfo
from app.ui.menus import build_menus
from app.ui.models.discover_page import DiscoverPage
from app.ui.models.downloads import DownloadManager
from app.ui.models.library_controller import LibraryController
from app.ui.models.library_page import LibraryPage
from app.ui.plain_text import as_html
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.nav_rail import NavRail


@dataclass
class WindowParts:
    """What the composition root builds for the window."""

    settings: Settings
    store: PendingWrites
    engine: EngineService
    tasks: BackgroundTasks
    library: LibraryController
    machine: MachineInfo
    downloads: DownloadManager
    sidebar: ChatSidebar
    chat_page: ChatPage
    compare_page: ComparePage
    library_page: LibraryPage
    discover_page: DiscoverPage


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
        self.sidebar = parts.sidebar
        self.chat_page = parts.chat_page
        self.compare_page = parts.compare_page
        self.library_page = parts.library_page
        self.discover_page = parts.discover_page
        self.first_run = None  # the first-run panel while it is shown (first_run.py)
        self.api_server = None  # the API server's holder, made when its dialog first opens
        self._closed = False
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
        build_menus(self)
        self._connect()
        self.statusBar().showMessage("Ready")
        self._restore()
        self.machine.refresh()
        self.library.refresh()
        self.refresh_remote_models()

    def _connect(self) -> None:
        self.sidebar.chat_selected.connect(self._open_chat)
        self.sidebar.new_chat_requested.connect(self.new_chat)
        self.sidebar.chat_deleted.connect(self._on_chat_deleted)
        self.chat_page.chat_changed.connect(self._on_chat_changed)
        self.chat_page.model_state.defaults = self.settings.model_defaults  # saved by the window
        self.chat_page.reply_finished.connect(lambda _done: self.save_settings())  # the model's sampling is kept
        self.chat_page.model_loaded.connect(self._on_model_loaded)
        self.library.models_changed.connect(self._on_models_changed)
        self.library.scan_progress.connect(self._on_scan_progress)
        self.library.scan_progress.connect(self.library_page.set_scanning)
        self.library.scan_failed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.library.first_scan_done.connect(self._on_first_scan)
        self.library_page.open_in_chat.connect(self.open_with_model)
        self.library_page.library_changed.connect(self.library.refresh)
        self.library_page.extra_folder_added.connect(self.add_model_folder)
        self.downloads.download_finished.connect(self._on_download_finished)
        self.machine.changed.connect(self.chat_page.load_settings.set_machine)
        self.machine.changed.connect(self.discover_page.set_machine)
        self.machine.failed.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.closing.connect(self.downloads.shutdown)
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

    def _shortcut(self, keys: str, slot, text: str) -> QAction:
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

    def show_extra_page(self, page: QWidget) -> None:
        """A page without a button (the first-run panel) shown in place of the current one."""
        if self.pages.indexOf(page) < 0:
            self.pages.addWidget(page)
        self.pages.setCurrentWidget(page)

    # ------------------------------------------------------------ chats

    def new_chat(self) -> None:
        self.show_page(self.chat_page)
        chat_id = self.chat_page.new_chat()
        self.sidebar.refresh()
        self.sidebar.select(chat_id, emit=False)

    def _open_chat(self, chat_id: int) -> None:
        if not self.chat_page.session.open(chat_id):  # unreadable: the list goes back to the chat on screen
            QTimer.singleShot(0, lambda: self.sidebar.select(self.chat_page.chat_id, emit=False))
            return
        self.settings.selected_chat = chat_id

    def _on_chat_changed(self, _chat_id: int) -> None:
        # The chat may be one in the background (a reply finished there): the list's
        # order and titles change, the selection stays on the chat on screen.
        self.sidebar.refresh()
        self.sidebar.select(self.chat_page.chat_id, emit=False)
        self.settings.selected_chat = self.chat_page.chat_id

    def _on_chat_deleted(self, _chat_id: int) -> None:
        chats = self.store.chats()
        if chats:
            self.sidebar.select(chats[0].id)
        else:
            self.new_chat()

    def export_chat(self, kind: str) -> None:
        from app.ui.chat_export import export_chat

        if self.chat_page.chat_id:
            export_chat(self, self.store, self.chat_page.chat_id, kind, self.statusBar())

    def import_chat(self, path: str = "") -> None:
        from app.ui.chat_export import import_chat_file

        chat_id = import_chat_file(self, self.store, self.statusBar(), path)
        if chat_id:
            self.show_page(self.chat_page)
            self.sidebar.refresh()
            self.sidebar.select(chat_id)

    # ------------------------------------------------------------ settings dialogs

    def open_server_settings(self) -> None:
        from app.ui.server_settings import ApiServerHolder, ServerSettingsDialog

        if self.api_server is None:
            self.api_server = ApiServerHolder()
        ServerSettingsDialog(self.engine.client, self.api_server, parent=self, tasks=self.tasks).exec()
        self.refresh_remote_models()  # endpoints may have been added or removed

    def refresh_remote_models(self) -> None:
        """Ask each configured server for its models, off the GUI thread (offline mode lists none)."""
        from app.ui.remote_models import list_remote_models

        self.tasks.run(list_remote_models, self._on_remote_models,
                       lambda error: self.statusBar().showMessage(f"Could not list remote models: {error}", 8000))

    def _on_remote_models(self, found) -> None:
        entries, problems = found
        self.chat_page.load_settings.set_remote_models(entries)
        self.compare_page.models_changed()
        if problems:
            self.statusBar().showMessage("; ".join(problems), 10000)

    def ask_token(self) -> None:
        from app.ui.hub_token import ask_token

        ask_token(self, self.tasks, self.statusBar())

    # ------------------------------------------------------------ models

    @property
    def models(self):
        return self.library.models

    @property
    def scanning(self) -> bool:
        return self.library.scanning

    def refresh_library(self) -> None:
        self.library.refresh()

    def add_model_folder(self, folder: str) -> None:
        if self.library.add_folder(folder):
            self.save_settings()

    def _on_models_changed(self, models) -> None:
        chat = self.chat_page.session.chat()  # nothing loaded (a restart): the open chat's model is shown
        keep = self.engine.info.path if self.engine.info else (chat and chat.model_path) or self.settings.last_model
        self.chat_page.load_settings.set_models(models, keep)
        self.engine.remember_headers(models)
        self.library_page.set_models(models)
        self.compare_page.models_changed()
        self.discover_page.set_first_run(not self.library.has_usable_model)
        self.discover_page.set_local_models(models)  # marks Hub files already here

    def _on_scan_progress(self, done: int, total: int) -> None:
        if done < total:
            self.statusBar().showMessage(f"Scanning models… {done} of {total}")
        else:
            self.statusBar().clearMessage()

    def _on_first_scan(self, usable: bool) -> None:
        if not usable and self.first_run is None:  # the welcome card offers the starter models itself
            self.show_page(self.discover_page)  # nothing to chat with yet: the starter models

    def _on_download_finished(self, path: str) -> None:
        self.library.refresh()
        self.statusBar().showMessage(f"Downloaded {path}", 8000)

    def open_with_model(self, path: str) -> bool:
        """`hearth --model PATH` (and Models → Open in chat): load it and open a new chat ready to type.

        The header is read off the GUI thread; a file that is not a usable model gets a dialog.
        """
        self.tasks.run(lambda: read_gguf_info(path), lambda info: self._open_model_read(path, info),
                       self._open_model_failed)
        return True

    def _open_model_failed(self, error: Exception) -> None:
        if self._closed:
            return
        reason = str(error) if isinstance(error, (GGUFFileError, OSError)) else f"{type(error).__name__}: {error}"
        QMessageBox.warning(self, "Cannot open model", as_html(reason))

    def _open_model_read(self, path: str, info) -> None:
        if self._closed:
            return
        model = self.library.add_opened(path, info)
        self.chat_page.model_state.load_path(str(model.path))
        self.new_chat()

    def _on_model_loaded(self, info) -> None:
        self.settings.last_model = info.path
        self.chat_page.load_settings.store_values(self.settings)
        self.chat_page.model_state.remember_load(info.path)
        self.save_settings()
        self.statusBar().showMessage(f"Loaded {info.name}", 5000)

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
        s.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        s.splitter_state = "|".join(bytes(sp.saveState().toBase64()).decode()
                                    for sp in (self.splitter, self.chat_page.splitter))
        s.selected_chat = self.chat_page.chat_id
        try:
            s.save()
        except OSError as exc:
            self.statusBar().showMessage(f"Could not save settings: {exc}", 8000)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.chat_page.session.finish_early()
        self.chat_page.session.flush_pending()
        if not self.store.retry() and not self._quit_without_saving():
            event.ignore()
            return
        self._closed = True  # background jobs that finish from now on find a closed store: they stop
        self.library.closed = True
        self.closing.emit()
        self.save_settings()
        if self.api_server is not None:
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
