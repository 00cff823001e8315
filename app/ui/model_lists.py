"""Keeps what every page offers to run in step: the library's model files, the remote servers'
models and what this computer's GPU and memory can fit.

The library, the remote servers and the machine probe report here; the chat's picker, the
Models page, Compare and Discover are told. Messages for the status line go out as `status`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.library.library import LocalModel
from app.remote_endpoints import EndpointStore
from app.settings import Settings
from app.ui.chat.chat_page import ChatPage
from app.ui.compare.compare_page import ComparePage
from app.ui.machine import MachineInfo
from app.ui.models.discover_page import DiscoverPage
from app.ui.models.downloads import DownloadManager
from app.ui.models.library_controller import LibraryController
from app.ui.models.library_page import LibraryPage
from app.ui.remote_models import list_remote_models
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks


class ModelLists(QObject):
    status = Signal(str, int)  # a line for the status bar and how long it shows in ms (0: until replaced)
    settings_changed = Signal()  # a model folder was added: the settings are to be saved

    def __init__(self, settings: Settings, library: LibraryController, machine: MachineInfo,
                 downloads: DownloadManager, endpoints: EndpointStore, engine: EngineService,
                 tasks: BackgroundTasks, chat_page: ChatPage, compare_page: ComparePage,
                 library_page: LibraryPage, discover_page: DiscoverPage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.library = library
        self.machine = machine
        self.endpoints = endpoints
        self.engine = engine
        self.tasks = tasks
        self.chat_page = chat_page
        self.compare_page = compare_page
        self.library_page = library_page
        self.discover_page = discover_page
        library.models_changed.connect(self._on_models_changed)
        library.scan_progress.connect(self._on_scan_progress)
        library.scan_progress.connect(library_page.set_scanning)
        library.scan_failed.connect(lambda text: self.status.emit(text, 8000))
        library_page.library_changed.connect(library.refresh)
        library_page.extra_folder_added.connect(self.add_folder)
        downloads.download_finished.connect(self._on_download_finished)
        machine.changed.connect(chat_page.set_machine)
        machine.changed.connect(discover_page.set_machine)
        machine.failed.connect(lambda text: self.status.emit(text, 10000))

    def start(self) -> None:
        """At start: probe the machine, scan the model folders and ask the servers, all off the GUI thread."""
        self.machine.refresh()
        self.library.refresh()
        self.refresh_remote()

    def refresh_remote(self) -> None:
        """Ask each configured server for its models, off the GUI thread (offline mode lists none)."""
        endpoints = self.endpoints
        self.tasks.run(lambda: list_remote_models(endpoints), self._on_remote_models,
                       lambda error: self.status.emit(f"Could not list remote models: {error}", 8000))

    def add_folder(self, folder: str) -> None:
        """A folder of models the Models page added: scanned from now on, and remembered."""
        if self.library.add_folder(folder):
            self.settings_changed.emit()

    def _on_remote_models(self, found: tuple[list[tuple[str, str]], list[str]]) -> None:
        entries, problems = found
        self.chat_page.set_remote_models(entries)
        self.compare_page.models_changed()
        if problems:
            self.status.emit("; ".join(problems), 10000)

    def _on_models_changed(self, models: list[LocalModel]) -> None:
        chat = self.chat_page.session.chat()  # nothing loaded (a restart): the open chat's model is shown
        info = self.engine.info
        keep = info.path if info else (chat and chat.model_path) or self.settings.last_model
        self.chat_page.set_models(models, keep)
        self.engine.remember_headers(models)
        self.library_page.set_models(models)
        self.compare_page.models_changed()
        self.discover_page.set_first_run(not self.library.has_usable_model)
        self.discover_page.set_local_models(models)  # marks Hub files already here

    def _on_scan_progress(self, done: int, total: int) -> None:
        self.status.emit(f"Scanning models… {done} of {total}" if done < total else "", 0)

    def _on_download_finished(self, path: str) -> None:
        self.library.refresh()
        self.status.emit(f"Downloaded {path}", 8000)
