"""Settings → Engine runtimes: a llama-server Hearth may start for models (a thin dialog over
app/engine/managed_runtime.py). A model whose architecture the built-in llama.cpp does not know runs on it
by itself; Settings.model_engines can send any model there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.library.architectures import llama_cpp_description
from app.settings import Settings
from app.ui.tasks import BackgroundTasks


def describe_runtime(info) -> str:
    """One line about a checked llama-server (a server_runtime.RuntimeInfo)."""
    devices = ", ".join(info.devices) if info.devices else "the CPU only"
    return f"{info.label} (version {info.version}, commit {info.commit}); {info.built_with}; runs on {devices}."


class RuntimeSettingsDialog(QDialog):
    def __init__(self, settings: Settings, tasks: BackgroundTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Engine runtimes")
        self.settings = settings
        self.tasks = tasks
        self.path = QLineEdit(settings.engine_runtime)
        self.path.setPlaceholderText("a llama-server binary or a llama.cpp build folder")
        browse = QPushButton("Browse…")
        self.check_button = QPushButton("Check")
        self.answer = QLabel(f"Built-in: llama.cpp {llama_cpp_description()}.")
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        self.answer.setWordWrap(True)
        explain = QLabel("Hearth starts this llama-server for a model whose architecture the built-in llama.cpp "
                         "does not know, on a free loopback port with a random key, and stops it when the model "
                         "changes or Hearth closes. `make engine-server` builds one from Hearth's own llama.cpp.")
        explain.setWordWrap(True)
        row = QHBoxLayout()
        for widget in (self.path, browse, self.check_button):
            row.addWidget(widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        for part in (explain, row, self.answer, buttons):
            layout.addLayout(part) if isinstance(part, QHBoxLayout) else layout.addWidget(part)
        browse.clicked.connect(self._browse)
        self.check_button.clicked.connect(self.check)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose llama-server", self.path.text())
        if chosen:
            self.path.setText(chosen)
            self.check()

    def check(self) -> None:
        """Run `llama-server --version` off the GUI thread and say what it is (or why it is not one)."""
        from app.engine.managed_runtime import checked_runtime

        path = self.path.text().strip()
        if not path:
            self.answer.setText("No runtime: every model runs on the built-in llama.cpp.")
            return
        self.check_button.setEnabled(False)
        self.answer.setText("Checking…")

        def done(info) -> None:
            self.check_button.setEnabled(True)
            self.answer.setText(describe_runtime(info))

        def failed(error: Exception) -> None:
            self.check_button.setEnabled(True)
            self.answer.setText(f"Not usable: {getattr(error, 'message', error)}")

        self.tasks.run(lambda: checked_runtime(path), done, failed)

    def _save(self) -> None:
        self.settings.engine_runtime = self.path.text().strip()
        try:
            self.settings.save()
        except OSError:  # a full or read-only disk: kept in memory, saved again when the window closes
            pass
        self.accept()
