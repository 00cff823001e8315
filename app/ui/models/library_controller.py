"""The local model library as the GUI sees it: the last known list at once, then a rescan off the GUI thread.

A QObject without widgets. `models_changed` carries the list (LocalModel) whenever it
changes; models opened from elsewhere (`hearth --model PATH`) are kept in it too. The same
file in several places is one entry (`copies.py`); large files that may be copies are hashed
after the scan, in the background, and the list is merged again when they are.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal

from app.library.copies import Merged, hash_and_merge, merged
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
        self._generation = 0  # bumped by each scan: a hashing job from an older one is not shown
        self.hashing = False  # files that may be copies are being hashed in the background
        self.hash_pool = QThreadPool(self)  # one file read at a time, never holding up scans and header reads
        self.hash_pool.setMaxThreadCount(1)
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
            self.tasks.run(lambda: merged(cached_library(), inline_limit=0).models, self._on_cached,
                           lambda _error: None)  # the scan reports errors
        extra = list(self.extra_dirs)
        progress = self.scan_progress.emit
        stop = self.tasks.cancel_requested  # quitting stops the scan between files
        self.tasks.run(lambda: _scan(extra, progress, stop), self._on_scanned, self._on_failed)

    def close(self) -> None:
        """The window is closing: scans and header reads that finish from now on are dropped."""
        self.closed = True

    def add_folder(self, folder: str) -> bool:
        """A folder of models to scan from now on; False if it was already there."""
        if folder in self.extra_dirs:
            self.refresh()
            return False
        self.extra_dirs.append(folder)
        self.refresh()
        return True

    def add_opened(self, path: str, info: GGUFInfo, projector: Path | None = None,
                   projector_info: GGUFInfo | None = None) -> LocalModel:
        """A model opened by path (not in any library folder): it stays in the list (with the projector
        paired with it, read off the GUI thread by the caller)."""
        known = next((m for m in self.models if Path(path) in m.locations), None)
        if known is not None:
            return known
        model = LocalModel(Path(path), "folder", info, projector=projector, projector_info=projector_info)
        self._opened.append(model)
        if path not in self.extra_dirs:  # the settings' list: after a restart the file is in the library still
            self.extra_dirs.append(path)
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

    def _on_scanned(self, result: tuple[list[LocalModel], Merged]) -> None:
        self._scanning = False
        self._generation += 1
        if self.closed:
            return
        if self._rescan:
            self.refresh()
        found, merge = result
        self._show(merge.models)
        if merge.pending and not self._rescan:
            self._hash_later(found, merge.pending)
        if not self._seen:
            self._seen = True
            self.first_scan_done.emit(self.has_usable_model)

    def _hash_later(self, found: list[LocalModel], pending: list[Path]) -> None:
        """Hash the large files that may be copies of another, then merge the scan's list again."""
        generation, stop = self._generation, self.tasks.cancel_requested

        def work() -> list[LocalModel]:
            return hash_and_merge(found, pending, stop).models

        def done(models: list[LocalModel]) -> None:
            self.hashing = False
            if generation == self._generation and not self.closed:
                self._show(models)

        def failed(_error: Exception) -> None:
            self.hashing = False  # quitting, or a file gone: the next scan tries again

        self.hashing = self.tasks.run(work, done, failed, pool=self.hash_pool)

    def _show(self, models: list[LocalModel]) -> None:
        known = {location for m in models for location in m.locations}
        self._set(models + [m for m in self._opened if m.path not in known])

    def _set(self, models: list[LocalModel]) -> None:
        self.models = models
        self.models_changed.emit(self.models)


def _scan(extra: list[str], progress, stop) -> tuple[list[LocalModel], Merged]:
    """The scan's list (one entry per path) and the same merged by content (off the GUI thread)."""
    found = scan_library(extra, progress, cancelled=stop)
    return found, merged(found, stop)
