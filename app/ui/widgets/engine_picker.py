"""The load settings' Engine row: which engine runs the chosen model (built-in llama.cpp or the configured
llama-server), chosen and remembered per model, with a line saying what will run it and why.

The choices live in Settings.model_engines (shared with managed_runtime.runtime_chooser, which the router
follows), so what this row says is what the next load does. The runtime itself is checked off the GUI
thread by EngineRuntimes (app/ui/engine_runtimes.py), which hands it here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from app.engine.engine_choice import AUTOMATIC, BUILT_IN, RUNTIME, EngineUse, built_in_label, engine_use
from app.engine.server_runtime import RuntimeInfo


class EnginePicker(QWidget):
    chosen = Signal(str, str)  # model path, its engine choice (engine_choice.CHOICES): settings are to be saved

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime: RuntimeInfo | None = None
        self.runtime_problem = ""  # why the configured llama-server is not usable, if it is not
        self.choices: dict[str, str] = {}  # Settings.model_engines (the same dict, once EngineRuntimes binds it)
        self._path = ""
        self._architecture = ""
        self.combo = QComboBox()
        self.combo.setAccessibleName("Engine")
        self.combo.setToolTip("Which llama.cpp runs this model: the built-in one, or a newer llama-server set in "
                              "File → Engine runtimes. Automatic: llama-server only for a model the built-in "
                              "one does not know")
        self.combo.addItem("Automatic", AUTOMATIC)
        self.combo.addItem("Built-in llama.cpp", BUILT_IN)
        self.combo.setItemData(1, built_in_label(), Qt.ItemDataRole.ToolTipRole)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(16)
        self.combo.addItem("llama-server (none set)", RUNTIME)
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Engine note")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.note)
        self.combo.currentIndexChanged.connect(self._on_changed)
        self._refresh()

    def set_runtime(self, runtime: RuntimeInfo | None, problem: str = "") -> None:
        """The configured llama-server, checked (None: none set, or `problem` says why it is not usable)."""
        self.runtime, self.runtime_problem = runtime, problem
        self.combo.setItemText(2, runtime.label if runtime is not None else "llama-server (none set)")
        item = self.combo.model().item(2)  # type: ignore[attr-defined]  # a QComboBox's own QStandardItemModel
        item.setEnabled(runtime is not None)
        self._refresh()

    def show_model(self, path: str, architecture: str) -> None:
        """The model the picker shows (its path "" or a remote one: the row says nothing)."""
        self._path, self._architecture = path, architecture
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(self.combo.findData(self.choices.get(path, AUTOMATIC)), 0))
        self.combo.blockSignals(False)
        self._refresh()

    def use(self, architecture: str | None = None, path: str | None = None) -> EngineUse:
        """What will run the model shown (or the one at `path`, of `architecture`)."""
        choice = self.choices.get(self._path if path is None else path, AUTOMATIC)
        return engine_use(self._architecture if architecture is None else architecture, choice, self.runtime)

    def _on_changed(self) -> None:
        choice = self.combo.currentData()
        if not self._path:
            return
        if choice == AUTOMATIC:
            self.choices.pop(self._path, None)
        else:
            self.choices[self._path] = choice
        self._refresh()
        self.chosen.emit(self._path, choice)

    def _refresh(self) -> None:
        sentence = self.use().sentence if self._path else ""
        if self.runtime_problem and sentence:
            sentence += f" The llama-server in File → Engine runtimes is not usable: {self.runtime_problem}"
        self.note.setText(sentence)
