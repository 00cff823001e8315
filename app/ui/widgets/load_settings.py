"""The model picker and its load settings (context, GPU layers, flash attention)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.engine.protocol import LoadOptions
from app.library.gguf_info import format_params
from app.library.library import LocalModel

NO_BACKEND_TIP = (
    "The installed llama.cpp has no GPU backend, so everything runs on the CPU. "
    "Rebuild llama-cpp-python with GPU support to use these (see README: GPU support)."
)


class LoadSettings(QWidget):
    load_requested = Signal(object)  # LoadOptions
    settings_changed = Signal()

    def __init__(self, gpu_backend: str = "none", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gpu_backend = gpu_backend
        self.models: list[LocalModel] = []
        self.picker = QComboBox()
        self.picker.setMinimumWidth(260)
        self.picker.setAccessibleName("Model")
        self.picker.setToolTip("Choose a local model to chat with")
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Load the chosen model with these settings")
        self.more = QToolButton()
        self.more.setText("Settings")
        self.more.setCheckable(True)
        self.more.setToolTip("Context size, GPU offload and flash attention")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFixedWidth(140)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setObjectName("loadStatus")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.picker, 1)
        row.addWidget(self.load_button)
        row.addWidget(self.more)
        row.addWidget(self.progress)

        self.ctx = QSpinBox()
        self.ctx.setRange(256, 131072)
        self.ctx.setSingleStep(1024)
        self.ctx.setValue(4096)
        self.ctx.setToolTip("How many tokens the model can see at once (up to its trained context)")
        self.ctx.setAccessibleName("Context size")
        self.gpu = QSlider(Qt.Orientation.Horizontal)
        self.gpu.setAccessibleName("GPU layers")
        self.gpu_label = QLabel()
        self.gpu_auto = QCheckBox("Auto")
        self.gpu_auto.setChecked(True)
        self.gpu_auto.setToolTip("Put as many layers on the GPU as fit in its free memory")
        self.flash = QCheckBox("Flash attention")
        self.flash.setToolTip("Faster attention and less memory on most GPUs")
        self.estimate = QLabel()
        self.estimate.setObjectName("gpuEstimate")
        self.estimate.setWordWrap(True)
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu, 1)
        gpu_row.addWidget(self.gpu_label)
        gpu_row.addWidget(self.gpu_auto)
        self.details = QWidget()
        form = QFormLayout(self.details)
        form.setContentsMargins(0, 4, 0, 0)
        form.addRow("Context size", self.ctx)
        form.addRow("GPU layers", gpu_row)
        form.addRow("", self.estimate)
        form.addRow("", self.flash)
        self.details.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.details)
        layout.addWidget(self.status)

        self.more.toggled.connect(self.details.setVisible)
        self.load_button.clicked.connect(self._request_load)
        self.picker.currentIndexChanged.connect(self._on_model_chosen)
        self.gpu.valueChanged.connect(self._on_gpu_changed)
        self.gpu_auto.toggled.connect(self._on_gpu_changed)
        self.ctx.valueChanged.connect(self._on_gpu_changed)
        self.flash.toggled.connect(lambda _: self.settings_changed.emit())
        self._apply_backend()

    # ---------------------------------------------------------------- state

    def _apply_backend(self) -> None:
        has_gpu = self.gpu_backend != "none"
        for widget in (self.gpu, self.gpu_auto, self.flash):
            widget.setEnabled(has_gpu)
            widget.setToolTip(NO_BACKEND_TIP if not has_gpu else widget.toolTip())
        if not has_gpu:
            self.gpu_auto.setChecked(False)
            self.gpu.setValue(0)
            self.flash.setChecked(False)
            self.estimate.setText("CPU only: this llama.cpp build has no GPU backend.")
        self._on_gpu_changed()

    def set_models(self, models: list[LocalModel], keep: str = "") -> None:
        keep = keep or self.current_path()
        self.models = [m for m in models if m.info is not None]
        self.picker.blockSignals(True)
        self.picker.clear()
        for m in self.models:
            info = m.info
            self.picker.addItem(f"{m.name} · {format_params(info.n_params)} · {info.quantization}", str(m.path))
            self.picker.setItemData(self.picker.count() - 1, str(m.path), Qt.ItemDataRole.ToolTipRole)
        if not self.models:
            self.picker.addItem("No models yet — get one from Discover", "")
        index = self.picker.findData(keep) if keep else -1
        self.picker.setCurrentIndex(max(index, 0))
        self.picker.blockSignals(False)
        self.load_button.setEnabled(bool(self.models))
        self._on_model_chosen()

    def current_path(self) -> str:
        return self.picker.currentData() or ""

    def current_model(self) -> LocalModel | None:
        path = self.current_path()
        return next((m for m in self.models if str(m.path) == path), None)

    def select_path(self, path: str) -> bool:
        index = self.picker.findData(path)
        if index >= 0:
            self.picker.setCurrentIndex(index)
        return index >= 0

    def _on_model_chosen(self) -> None:
        model = self.current_model()
        if model is None:
            return
        trained = model.info.context_length or 131072
        self.ctx.setMaximum(max(trained, 256))
        self.gpu.setRange(0, model.info.n_layers + 1)
        self._on_gpu_changed()

    def _on_gpu_changed(self, *_args) -> None:
        model = self.current_model()
        total = model.info.n_layers + 1 if model else 0
        if self.gpu_backend != "none" and model is not None:
            if self.gpu_auto.isChecked():
                from app.hardware import describe_fit, fit_gpu_layers

                fit = fit_gpu_layers(model.info, self.ctx.value())
                self.gpu.blockSignals(True)
                self.gpu.setValue(fit.n_gpu_layers)
                self.gpu.blockSignals(False)
                self.estimate.setText(describe_fit(fit))
            else:
                self.estimate.setText(f"{self.gpu.value()} of {total} layers on the GPU (chosen by you)")
        self.gpu.setEnabled(self.gpu_backend != "none" and not self.gpu_auto.isChecked())
        self.gpu_label.setText(f"{self.gpu.value()} / {total}")
        self.settings_changed.emit()

    def set_values(self, n_ctx: int, n_gpu_layers: int, flash_attn: bool) -> None:
        self.ctx.setValue(n_ctx)
        if self.gpu_backend != "none":
            self.gpu_auto.setChecked(n_gpu_layers < 0)
            if n_gpu_layers >= 0:
                self.gpu.setValue(n_gpu_layers)
            self.flash.setChecked(flash_attn)

    def options(self, path: str | None = None) -> LoadOptions:
        gpu_layers = self.gpu.value() if self.gpu_backend != "none" else 0
        return LoadOptions(path=path or self.current_path(), n_ctx=self.ctx.value(), n_gpu_layers=gpu_layers,
                           flash_attn=self.flash.isChecked())

    def gpu_setting(self) -> int:
        """-1 when automatic, else the chosen layer count (what settings keep)."""
        return -1 if self.gpu_auto.isChecked() else self.gpu.value()

    def _request_load(self) -> None:
        if self.current_path():
            self.load_requested.emit(self.options())

    # ---------------------------------------------------------------- feedback

    def show_loading(self, name: str) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.load_button.setEnabled(False)
        self.status.setText(f"Loading {name}…")

    def show_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 100))

    def show_loaded(self, text: str) -> None:
        self.progress.setVisible(False)
        self.load_button.setEnabled(True)
        self.status.setStyleSheet("")
        self.status.setText(text)

    def show_error(self, text: str) -> None:
        self.progress.setVisible(False)
        self.load_button.setEnabled(bool(self.models))
        self.status.setStyleSheet("color: #dc2626;")
        self.status.setText(text)


def model_label(path: str) -> str:
    return Path(path).stem
