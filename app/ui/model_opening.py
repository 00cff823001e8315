"""Opening a model file in a new chat (`hearth --model PATH`, Models → Open in chat, the welcome card),
and remembering the model the chat loaded, with its load settings, for the next start."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.engine import ModelInfo
from app.library.gguf_info import GGUFFileError, GGUFInfo
from app.library.projector import opened_model
from app.settings import Settings
from app.ui.chat.chat_page import ChatPage
from app.ui.models.library_controller import LibraryController
from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks


class ModelOpener(QObject):
    opened = Signal()  # a model file is loading in the chat: a new chat is wanted for it
    status = Signal(str, int)  # a line for the status bar and how long it shows in ms
    settings_changed = Signal()  # the last model and its load settings changed: the settings are to be saved

    def __init__(self, settings: Settings, library: LibraryController, chat_page: ChatPage,
                 tasks: BackgroundTasks, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.settings = settings
        self.library = library
        self.chat_page = chat_page
        self.tasks = tasks
        self.dialog_parent = dialog_parent  # over which "Cannot open model" shows
        self._closed = False
        chat_page.model_state.defaults = settings.model_defaults  # shared: what a model was last used with
        chat_page.model_loaded.connect(self._on_model_loaded)

    def open_with_model(self, path: str) -> bool:
        """Load the model at `path` and open a new chat ready to type.

        The header is read off the GUI thread; a file that is not a usable model gets a dialog.
        """
        self.tasks.run(lambda: opened_model(path), lambda found: self._open_model_read(path, *found),
                       self._open_model_failed)  # (its projector is paired there too; a projector is refused)
        return True

    def close(self) -> None:
        """The window is closing: a header read that finishes from now on is dropped."""
        self._closed = True

    def _open_model_failed(self, error: Exception) -> None:
        if self._closed:
            return
        reason = str(error) if isinstance(error, (GGUFFileError, OSError)) else f"{type(error).__name__}: {error}"
        QMessageBox.warning(self.dialog_parent, "Cannot open model", as_html(reason))

    def _open_model_read(self, path: str, info: GGUFInfo, projector: Path | None = None,
                         projector_info: GGUFInfo | None = None) -> None:
        if self._closed:
            return
        model = self.library.add_opened(path, info, projector, projector_info)
        self.chat_page.model_state.load_path(str(model.path))
        self.opened.emit()

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.settings.last_model = info.path
        self.chat_page.load_settings.store_values(self.settings)
        self.chat_page.model_state.remember_load(info.path)
        self.settings_changed.emit()
        self.status.emit(f"Loaded {info.name}", 5000)
