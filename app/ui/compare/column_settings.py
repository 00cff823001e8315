"""A Compare column's settings in a small dialog: the load settings (the chat page's widget, for the
column's model) and sampling."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGroupBox, QVBoxLayout, QWidget

from app import model_defaults
from app.engine import SamplingParams
from app.library.library import LocalModel
from app.machine_probe import MachineProbe
from app.ui.widgets.load_settings import LoadSettings
from app.ui.widgets.sampling_panel import SamplingPanel


class ColumnSettings(QDialog):
    def __init__(self, title: str, path: str, load: dict, sampling: SamplingParams, probe: MachineProbe | None,
                 models: list[LocalModel], parent: QWidget | None = None) -> None:
        """`path`: the column's model; `load`: its load values (missing ones are Hearth's defaults); `probe`:
        what this computer offers (None until probed); `models`: the library's, for the model's header."""
        super().__init__(parent)
        self.setWindowTitle(f"Column settings · {title}")
        self._path = path
        self.load = LoadSettings(picker=False)
        if probe is not None:
            self.load.set_machine(probe)
        self.load.set_models([m for m in models if m.info is not None and path and
                              any(str(location) == path for location in (m.path, *m.locations))], path)
        self.load.apply_load_values({**model_defaults.hearth_load_values(), **load})
        load_box = QGroupBox("Loading")
        QVBoxLayout(load_box).addWidget(self.load)
        self.sampling = SamplingPanel()
        self.sampling.set_params(sampling)
        sampling_box = QGroupBox("Sampling")
        QVBoxLayout(sampling_box).addWidget(self.sampling)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(load_box)
        layout.addWidget(sampling_box)
        layout.addWidget(buttons)

    def load_values(self) -> dict:
        """The load values as the column keeps them. Without a GPU backend its layers are 0, as the load
        will have them (the chat page keeps a saved GPU choice instead: an eGPU may come back)."""
        return model_defaults.values_of(self.load.options(self._path))

    def sampling_params(self) -> SamplingParams:
        return self.sampling.params()
