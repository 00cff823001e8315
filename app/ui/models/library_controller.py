"""The local model library as the GUI sees it: the last known list at once, then a rescan off the GUI thread.

A QObject without widgets. `models_changed` carries the list (LocalModel) whenever it
changes; models opened from elsewhere (`hearth --model PATH`) are kept in it too.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.library.gguf_info import GGUFInfo
from app.library.library import LocalModel, cached_library, scan_library
from app.ui.tasks import BackgroundTasks


class LibraryController(QObject):
    models_changed = Signal(list)  # list[LocalModel]
    scan_progress = Signal(int, int)  # files done, files found (emitted from the scan's thread: queued)
    scan_failed = Signal(str)
    first_scan_done = Signal(bool)  # whether any usable model was found (first run: nothing to chat with)

    def __init__(self, tasks: BackgroundTasks, extra_dirs: list[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.extra_dirs = extra_dirs  # the settings' list: folders added later are scanned too
        self.models: list[LocalModel] = []
        self._opened: list[LocalModel] = []
        self._seen = False  # the first full scan has reported
        self._scanning = False
        self._rescan = False  # a rescan was asked for while one ran
        self.closed = False

    @property
    def scanning(self) -> bool:
        return self._scanning

    @property
    def has_usable_model(self) -> bool:
        return any(m.info is not None for m in self.models)

    def refresh(self) -> None:
        """Rescan the model folders off the GUI thread; the last known list shows meanwhile."""
        if self._scanning:
            self._rescan = True
            return
        self._scanning, self._rescan = True, False
        if not self._seen and not self.models:
            self.tasks.run(cached_library, self._on_cached, lambda _error: None)  # the scan reports errors
        extra = list(self.extra_dirs)
        progress = self.scan_progress.emit
        stop = self.tasks.cancel_requested  # quitting stops the scan between files
        self.tasks.run(lambda: scan_library(extra, progress, cancelled=stop), self._on_scanned, self._on_failed)

    def add_folder(self, folder: str) -> bool:
        """A folder of models to scan from now on; False if it was already there."""
        if folder in self.extra_dirs:
            self.refresh()
            return False
        self.extra_dirs.append(folder)
        self.refresh()
        return True

    def add_opened(self, path: str, info: GGUFInfo) -> LocalModel:
        """A model opened by path (not in any library folder): it stays in the list."""
        model = LocalModel(Path(path), "folder", info)
        self._opened.append(model)
        self._set([m for m in self.models if str(m.path) != str(model.path)] + [model])
        return model

    def _on_cached(self, models: list[LocalModel]) -> None:
        if models and not self._seen and not self.closed:
            self._show(models)

    def _on_failed(self, error: Exception) -> None:
        self._scanning = False
        if self.closed:
            return
        if self._rescan:
            self.refresh()
        self.scan_failed.emit(f"Could not scan for models: {error}")

    def _on_scanned(self, models: list[LocalModel]) -> None:
        self._scanning = False
        if self.closed:
            return
        if self._rescan:
            self.refresh()
        self._show(models)
        if not self._seen:
            self._seen = True
            self.first_scan_done.emit(self.has_usable_model)

    def _show(self, models: list[LocalModel]) -> None:
        known = {str(m.path) for m in models}
        self._set(models + [m for m in self._opened if str(m.path) not in known])

    def _set(self, models: list[LocalModel]) -> None:
        self.models = models
        self.models_changed.emit(self.models)
