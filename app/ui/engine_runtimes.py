"""The configured llama-server as the window sees it: checked off the GUI thread at start and after
File → Engine runtimes, handed to the load settings' Engine row and the Models page; each model's engine
choice saved; and every server Hearth started stopped when the window closes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.settings import Settings
from app.ui.models.library_page import LibraryPage
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.engine_picker import EnginePicker


class EngineRuntimes(QObject):
    settings_changed = Signal()  # a model's engine choice changed: the settings are to be saved
    status = Signal(str, int)

    def __init__(self, settings: Settings, tasks: BackgroundTasks, picker: EnginePicker, library_page: LibraryPage,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.tasks = tasks
        self.picker = picker
        self.library_page = library_page
        picker.choices = settings.model_engines  # one dict: what the row shows is what the router follows
        library_page.engine_use = picker.use
        picker.chosen.connect(self._on_chosen)

    def refresh(self) -> None:
        """Check Settings.engine_runtime (`llama-server --version`, once per build) off the GUI thread."""
        from app.engine.managed_runtime import checked_runtime

        path = self.settings.engine_runtime
        if not path:
            self._apply(None)
            return
        self.tasks.run(lambda: checked_runtime(path), self._apply, self._failed)

    def _apply(self, runtime, problem: str = "") -> None:
        self.picker.set_runtime(runtime, problem)
        self.library_page.refresh_engines()

    def _failed(self, error: Exception) -> None:
        self._apply(None, str(getattr(error, "message", error)))

    def _on_chosen(self, path: str, choice: str) -> None:
        self.settings_changed.emit()
        name = path.rsplit("/", 1)[-1]
        self.status.emit(f"{name} will run on: {self.picker.use().label}", 5000)

    @staticmethod
    def stop_servers() -> None:
        """Stop every llama-server this process started (the window is closing)."""
        from app.engine.server_runtime import stop_all

        stop_all()
