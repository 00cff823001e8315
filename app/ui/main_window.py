"""The frame: sidebar (chats, pages) and the stacked pages. Also the composition root's window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.library.gguf_info import GGUFFileError, read_gguf_info
from app.library.library import LocalModel, cached_library, scan_library
from app.settings import Settings
from app.store import ConversationStore
from app.store.export import chat_to_json, chat_to_markdown
from app.store.pending_writes import PendingWrites
from app.ui.chat.chat_list import ChatSidebar
from app.ui.chat.chat_page import ChatPage
from app.ui.plain_text import as_html
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks


class MainWindow(QMainWindow):
    library_updated = Signal(object)  # list[LocalModel]
    library_scan_progress = Signal(int, int)  # files done, files found
    closing = Signal()

    def __init__(self, settings: Settings, store: ConversationStore, engine: EngineService,
                 gpu_backend: str = "none", tasks: BackgroundTasks | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.tasks = tasks or BackgroundTasks(parent=self)
        # One PendingWrites for the window: the sidebar sees titles that still wait for the disk.
        self.store = store if isinstance(store, PendingWrites) else PendingWrites(store)
        self.engine = engine
        self.models: list[LocalModel] = []
        self._extra_models: list[LocalModel] = []
        self._library_seen = False
        self._scanning = False
        self._rescan = False  # a rescan was asked for while one ran
        self._closed = False
        self.setWindowTitle("Hearth")
        self.resize(1280, 820)

        self.sidebar = ChatSidebar(self.store)
        self.chat_page = ChatPage(self.store, engine, gpu_backend, tasks=self.tasks)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.chat_page)
        self.nav = QButtonGroup(self)
        self.nav_bar = QHBoxLayout()
        self.nav_bar.setContentsMargins(8, 8, 8, 0)
        self.page_buttons: dict[str, QToolButton] = {}
        self.named_pages: dict[str, QWidget] = {}
        self.add_page("Chats", self.chat_page, "Your conversations (Ctrl+1)")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(self.nav_bar)
        left_layout.addWidget(self.sidebar, 1)
        left_layout.addStretch(0)  # keeps the page buttons at the top when the chat list is hidden
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 1020])
        self.setCentralWidget(self.splitter)
        self._build_menu()

        self.sidebar.chat_selected.connect(self._open_chat)
        self.sidebar.new_chat_requested.connect(self.new_chat)
        self.sidebar.chat_deleted.connect(self._on_chat_deleted)
        self.chat_page.chat_changed.connect(self._on_chat_changed)
        self.chat_page.model_loaded.connect(self._on_model_loaded)
        self.statusBar().showMessage("Ready")
        self._restore()
        self.library_scan_progress.connect(self._on_scan_progress)
        self.refresh_library()

    # ------------------------------------------------------------ pages

    def add_page(self, name: str, page: QWidget, tip: str) -> None:
        """A page in the stack with its button in the sidebar and a Ctrl+N shortcut."""
        self.named_pages[name] = page
        if self.pages.indexOf(page) < 0:
            self.pages.addWidget(page)
        button = QToolButton()
        button.setText(name)
        button.setCheckable(True)
        button.setToolTip(tip)
        button.setAccessibleName(f"{name} page")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.nav.addButton(button)
        self.nav_bar.addWidget(button)
        button.clicked.connect(lambda: self.show_page(name))
        self.page_buttons[name] = button
        shortcut = QAction(self)
        shortcut.setShortcut(QKeySequence(f"Ctrl+{len(self.page_buttons)}"))
        shortcut.triggered.connect(lambda: self.show_page(name))
        self.addAction(shortcut)
        if len(self.page_buttons) == 1:
            button.setChecked(True)

    def show_page(self, name: str) -> None:
        page = self.named_pages.get(name)
        if page is not None:
            self.pages.setCurrentWidget(page)
            self.page_buttons[name].setChecked(True)
            self.sidebar.setVisible(name == "Chats")

    # ------------------------------------------------------------ menu

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_chat_action = QAction("New chat", self)
        self.new_chat_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_chat_action.setToolTip("Start a new conversation")
        self.new_chat_action.triggered.connect(self.new_chat)
        file_menu.addAction(self.new_chat_action)
        self.export_md_action = QAction("Export chat as Markdown…", self)
        self.export_md_action.triggered.connect(lambda: self.export_chat("md"))
        self.export_json_action = QAction("Export chat as JSON…", self)
        self.export_json_action.triggered.connect(lambda: self.export_chat("json"))
        file_menu.addAction(self.export_md_action)
        file_menu.addAction(self.export_json_action)
        file_menu.addSeparator()
        self.token_action = QAction("Hugging Face token…", self)
        self.token_action.setToolTip("A token opens gated and private models; it is stored by huggingface_hub")
        self.token_action.triggered.connect(self.ask_token)
        file_menu.addAction(self.token_action)
        self.servers_action = QAction("Remote engines and API server…", self)
        self.servers_action.triggered.connect(self.open_server_settings)
        file_menu.addAction(self.servers_action)
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        chat_menu = self.menuBar().addMenu("&Chat")
        self.stop_action = QAction("Stop reply", self)
        self.stop_action.setToolTip("Stop the reply being written (Esc in the message box)")
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))
        self.stop_action.triggered.connect(self.chat_page.stop)
        chat_menu.addAction(self.stop_action)
        focus = QAction("Write a message", self)
        focus.setShortcut(QKeySequence("Ctrl+L"))
        focus.triggered.connect(lambda: self.chat_page.composer.edit.setFocus())
        chat_menu.addAction(focus)
        self.show_prompt_action = QAction("Show prompt", self)
        self.show_prompt_action.setToolTip("The exact text the model is given for this chat, special tokens included")
        self.show_prompt_action.triggered.connect(lambda: self.chat_page.show_prompt())
        chat_menu.addAction(self.show_prompt_action)

    # ------------------------------------------------------------ chats

    def new_chat(self) -> None:
        self.show_page("Chats")
        chat_id = self.chat_page.new_chat()
        self.sidebar.refresh()
        self.sidebar.select(chat_id, emit=False)

    def _open_chat(self, chat_id: int) -> None:
        if not self.chat_page.open_chat(chat_id):  # unreadable: the list goes back to the chat on screen
            QTimer.singleShot(0, lambda: self.sidebar.select(self.chat_page.chat_id, emit=False))
            return
        self.settings.selected_chat = chat_id

    def _on_chat_changed(self, chat_id: int) -> None:
        # chat_id may be a chat in the background (a reply finished there): the list's
        # order and titles change, the selection stays on the chat on screen.
        self.sidebar.refresh()
        self.sidebar.select(self.chat_page.chat_id, emit=False)
        self.settings.selected_chat = self.chat_page.chat_id

    def _on_chat_deleted(self, chat_id: int) -> None:
        chats = self.store.chats()
        if chats:
            self.sidebar.select(chats[0].id)
        else:
            self.new_chat()

    def export_chat(self, kind: str) -> None:
        chat = self.store.chat(self.chat_page.chat_id) if self.chat_page.chat_id else None
        if chat is None:
            return
        suffix = ".md" if kind == "md" else ".json"
        path, _ = QFileDialog.getSaveFileName(self, "Export chat", str(Path.home() / f"{chat.title[:40]}{suffix}"),
                                              "Markdown (*.md)" if kind == "md" else "JSON (*.json)")
        if not path:
            return
        messages = self.store.messages(chat.id)
        text = chat_to_markdown(chat, messages) if kind == "md" else chat_to_json(chat, messages)
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", as_html(f"Could not write {path}: {exc.strerror or exc}"))
        else:
            self.statusBar().showMessage(f"Exported to {path}", 5000)

    # ------------------------------------------------------------ Hub token

    def open_server_settings(self) -> None:
        from app.ui.server_settings import ApiServerHolder, ServerSettingsDialog

        if not hasattr(self, "api_server"):
            self.api_server = ApiServerHolder()
        ServerSettingsDialog(self.engine.client, self.api_server, parent=self, tasks=self.tasks).exec()

    def ask_token(self) -> None:
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        from app.hub.auth import forget_token, save_token

        token, ok = QInputDialog.getText(
            self, "Hugging Face token",
            "Paste a read token from huggingface.co/settings/tokens (leave empty to remove the stored one):",
            QLineEdit.EchoMode.Password)
        if not ok:
            return
        if not token.strip():
            self.tasks.run(forget_token, lambda _r: self.statusBar().showMessage("Hub token removed", 5000),
                           lambda error: self.statusBar().showMessage(f"Could not remove the token: {error}", 8000))
            return
        self.statusBar().showMessage("Checking the token…")

        def refused(error: Exception) -> None:
            message = getattr(error, "message", "The token was refused.")
            QMessageBox.warning(self, "Hugging Face token", as_html(message))

        self.tasks.run(lambda: save_token(token),
                       lambda name: self.statusBar().showMessage(f"Signed in to Hugging Face as {name}", 8000), refused)

    # ------------------------------------------------------------ models

    @property
    def scanning(self) -> bool:
        return self._scanning

    def refresh_library(self) -> None:
        """Rescan the model folders off the GUI thread; the last known list shows meanwhile."""
        if self._scanning:
            self._rescan = True
            return
        self._scanning, self._rescan = True, False
        if not self._library_seen and not self.models:
            self.tasks.run(cached_library, self._on_cached_library, lambda _error: None)  # the scan reports errors
        extra = list(self.settings.extra_model_dirs)
        progress = self.library_scan_progress.emit  # emitted from the pool thread, delivered queued
        stop = self.tasks.cancel_requested  # quitting stops the scan between files
        self.tasks.run(lambda: scan_library(extra, progress, cancelled=stop), self._on_library, self._on_library_failed)

    def _on_cached_library(self, models) -> None:
        if self._closed:
            return
        if models and not self._library_seen:
            self._show_models(models)

    def _on_scan_progress(self, done: int, total: int) -> None:
        if done < total:
            self.statusBar().showMessage(f"Scanning models… {done} of {total}")
        else:
            self.statusBar().clearMessage()

    def _show_models(self, models) -> None:
        known = {str(m.path) for m in models}
        self.models = models + [m for m in self._extra_models if str(m.path) not in known]
        keep = self.engine.info.path if self.engine.info else self.settings.last_model
        self.chat_page.load_settings.set_models(self.models, keep)
        self.library_updated.emit(self.models)

    def _on_library_failed(self, error: Exception) -> None:
        self._scanning = False
        if self._closed:
            return
        if self._rescan:
            self.refresh_library()
        self.statusBar().showMessage(f"Could not scan for models: {error}", 8000)

    def _on_library(self, models) -> None:
        self._scanning = False
        if self._closed:
            return
        if self._rescan:
            self.refresh_library()
        self._show_models(models)
        if not self._library_seen:
            self._library_seen = True
            if not any(m.info is not None for m in self.models) and "Discover" in self.page_buttons:
                self.show_page("Discover")  # first run: nothing to chat with yet

    def open_with_model(self, path: str) -> bool:
        """`hearth --model PATH`: load it and open a new chat ready to type.

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
        model = LocalModel(Path(path), "folder", info)
        self._extra_models.append(model)
        self.models = [m for m in self.models if str(m.path) != str(model.path)] + [model]
        self.chat_page.load_settings.set_models(self.models, str(model.path))
        self.chat_page.load_model(self.chat_page.load_settings.options(str(model.path)))
        self.new_chat()
        self.chat_page.composer.edit.setFocus()

    def _on_model_loaded(self, info) -> None:
        self.settings.last_model = info.path
        self.chat_page.load_settings.store_values(self.settings)
        self._save_settings()
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
            self.chat_page.open_chat(chosen)
        QTimer.singleShot(0, self.chat_page.composer.edit.setFocus)

    def _save_settings(self) -> None:
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
        if self.chat_page.streaming:
            self.chat_page.finish_stream_early()
        self.chat_page._save_system_prompt()
        if not self.store.retry() and not self._quit_without_saving():
            event.ignore()
            return
        self._closed = True  # background jobs that finish from now on find a closed store: they stop
        self.closing.emit()
        self._save_settings()
        if hasattr(self, "api_server"):
            self.api_server.stop()
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
