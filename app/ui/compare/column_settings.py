"""A Compare column's settings: context size, GPU layers and sampling, in a small dialog."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.engine import SamplingParams
from app.engine.protocol import AUTO_LAYERS
from app.ui.widgets.sampling_panel import SamplingPanel


class ColumnSettings(QDialog):
    def __init__(self, title: str, load: dict, sampling: SamplingParams, gpu: bool,
                 parent: QWidget | None = None) -> None:
        """`gpu`: this computer can offload (else the layer control is off and layers are 0)."""
        super().__init__(parent)
        self.setWindowTitle(f"Column settings · {title}")
        self._load = dict(load)
        self.ctx = QSpinBox()
        self.ctx.setRange(256, 1_048_576)
        self.ctx.setSingleStep(1024)
        self.ctx.setValue(int(load.get("n_ctx") or 4096))
        self.ctx.setAccessibleName("Context size")
        self.ctx.setToolTip("How many tokens this column's model can keep in view: prompt, history and reply")
        self.gpu_auto = QCheckBox("Automatic")
        self.gpu_auto.setToolTip("Put as many layers on the GPU as fit its free memory")
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(0, 999)
        self.gpu_layers.setAccessibleName("GPU layers")
        layers = int(load.get("n_gpu_layers", AUTO_LAYERS))
        self.gpu_auto.setChecked(layers == AUTO_LAYERS)
        self.gpu_layers.setValue(max(layers, 0))
        self.gpu_layers.setEnabled(gpu and layers != AUTO_LAYERS)
        self.gpu_auto.setEnabled(gpu)
        self.gpu_auto.toggled.connect(lambda on: self.gpu_layers.setEnabled(gpu and not on))
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_layers)
        gpu_row.addWidget(self.gpu_auto)
        load_box = QGroupBox("Loading")
        form = QFormLayout(load_box)
        form.addRow("Context size", self.ctx)
        form.addRow("GPU layers", gpu_row)
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
        self._gpu = gpu

    def load_values(self) -> dict:
        values = dict(self._load)
        values["n_ctx"] = self.ctx.value()
        if not self._gpu:
            values["n_gpu_layers"] = 0
        else:
            values["n_gpu_layers"] = AUTO_LAYERS if self.gpu_auto.isChecked() else self.gpu_layers.value()
        return values

    def sampling_params(self) -> SamplingParams:
        return self.sampling.params()
