"""The load settings of a model (context, GPU layers, flash attention, …), with the model picker.

One widget for every place a load is set up: the chat page shows it with its picker, Load and
Eject; a Compare column's settings dialog shows the settings alone (`picker=False`) for its
column's model. Bounds and defaults come from app/load_limits.py.

"?" buttons next to the context size and GPU layers emit `help_requested(anchor)` for whoever
shows the help page.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

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

from app import load_limits as limits
from app.engine.protocol import AUTO_PROJECTOR, LoadOptions
from app.library.library import LocalModel
from app.load_limits import AUTO_LAYERS, FLASH_TEXT, flash_value
from app.model_defaults import LOAD_FIELDS
from app.ui.help_text import GPU_AUTO_TIP, GPU_TIP, NO_BACKEND_TIP
from app.ui.widgets.engine_picker import EnginePicker
from app.ui.widgets.help_button import HelpButton
from app.ui.widgets.memory_plan_view import MemoryPlanView
from app.ui.widgets.picker_items import fill_picker
from app.ui.widgets.projector_setting import ProjectorSetting
from app.ui.widgets.template_picker import TemplatePicker


class LoadSettings(QWidget):
    load_requested = Signal(object)  # LoadOptions
    eject_requested = Signal()  # free the loaded model's memory
    settings_changed = Signal()
    model_chosen = Signal(str)  # the picker shows another model (its path)
    help_requested = Signal(str)  # a help page anchor: "context" or "gpu-layers"

    def __init__(self, parent: QWidget | None = None, picker: bool = True) -> None:
        """`picker=False`: the settings alone, always shown, for the model `set_models` was given (a Compare
        column's); no picker, Load, Eject or status line, and no template override (a chat's setting)."""
        super().__init__(parent)
        # Unknown until the machine probe reports (app.machine_probe): meanwhile GPU layers stay
        # automatic, which the engine resolves itself.
        self.gpu_backend: str | None = None
        self.free_vram = 0
        self.free_ram = 0  # from the machine probe too: the plan says whether the load fits
        self._saved_gpu_layers = AUTO_LAYERS
        self.models: list[LocalModel] = []
        self.remote_models: list[tuple[str, str]] = []
        self.picker = QComboBox()
        self.picker.setMinimumWidth(260)
        self.picker.setAccessibleName("Model")
        self.picker.setToolTip("Choose a local model to chat with (Ctrl+K)")
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Load (or reload) the chosen model with these settings")
        self.load_button.setAccessibleName("Load model")
        self.eject_button = QPushButton("Eject")
        self.eject_button.setToolTip("Free the memory the loaded model holds")
        self.eject_button.setAccessibleName("Eject model")
        self.eject_button.setVisible(False)
        self.more = QToolButton()
        self.more.setText("Settings")
        self.more.setCheckable(True)
        self.more.setToolTip("Context size, GPU offload and flash attention")
        self.more.setAccessibleName("Load settings")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFixedWidth(140)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setObjectName("loadStatus")
        self.status.setWordWrap(True)
        bar = QWidget()  # without the picker it stays hidden: current_path() still names the model
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.picker, 1)
        for widget in (self.load_button, self.eject_button, self.more, self.progress):
            row.addWidget(widget)

        self.ctx = QSpinBox()
        self.ctx.setRange(limits.CONTEXT_MIN, limits.CONTEXT_MAX)  # capped at the chosen model's trained context
        self.ctx.setSingleStep(limits.CONTEXT_STEP)
        self.ctx.setValue(limits.CONTEXT_DEFAULT)
        self.ctx.setToolTip("How many tokens the model can see at once (up to its trained context)")
        self.ctx.setAccessibleName("Context size")
        self.gpu = QSlider(Qt.Orientation.Horizontal)
        self.gpu.setAccessibleName("GPU layers")
        self.gpu.setToolTip(GPU_TIP)
        self.gpu_label = QLabel()
        self.gpu_label.setTextFormat(Qt.TextFormat.PlainText)
        self.gpu_auto = QCheckBox("Auto")
        self.gpu_auto.setChecked(True)
        self.gpu_auto.setToolTip(GPU_AUTO_TIP)
        self.gpu_auto.setAccessibleName("GPU layers automatic")
        self.ctx_help = HelpButton("context", "Context size")
        self.gpu_help = HelpButton("gpu-layers", "GPU layers")
        for button in (self.ctx_help, self.gpu_help):
            button.requested.connect(self.help_requested)
        self.flash = QComboBox()
        for label, value in limits.FLASH_CHOICES:
            self.flash.addItem(label, value)
        self.flash.setAccessibleName("Flash attention")
        self.flash.setToolTip("Faster attention and less memory on most GPUs. Auto: off when the model runs on the "
                              "CPU alone (much faster replies in long chats there), else llama.cpp decides")
        self.kv_cache = QComboBox()
        for kind, label in limits.KV_CACHE_TYPES.items():
            self.kv_cache.addItem(label, kind)
        self.kv_cache.setAccessibleName("KV cache type")
        self.kv_cache.setToolTip("How the context is stored: smaller types fit longer contexts in less memory")
        self.batch = QSpinBox()
        self.batch.setRange(limits.BATCH_MIN, limits.BATCH_MAX)
        self.batch.setSingleStep(limits.BATCH_STEP)
        self.batch.setValue(limits.BATCH_DEFAULT)
        self.batch.setAccessibleName("Batch size")
        self.batch.setToolTip("Prompt tokens evaluated per step: larger is faster on GPUs, uses more memory")
        self.threads = QSpinBox()
        self.threads.setRange(limits.THREADS_AUTO, limits.THREADS_MAX)
        self.threads.setSpecialValueText("Automatic")
        self.threads.setAccessibleName("CPU threads")
        self.threads.setToolTip("CPU threads for the model (Automatic: one per physical core)")
        self.mmap = QCheckBox("Memory-map the model file")
        self.mmap.setChecked(limits.MMAP_DEFAULT)
        self.mmap.setToolTip("Loads faster and shares memory with the file cache; turn off on slow network drives")
        self.estimate = QLabel()
        self.estimate.setTextFormat(Qt.TextFormat.PlainText)
        self.estimate.setObjectName("gpuEstimate")
        self.estimate.setWordWrap(True)
        self.engine_picker = EnginePicker()  # which llama.cpp runs the model, per model (engine_runtimes.py)
        self.plan_view = MemoryPlanView()  # the memory plan per component; measured beside it once loaded
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu, 1)
        gpu_row.addWidget(self.gpu_label)
        gpu_row.addWidget(self.gpu_auto)
        gpu_row.addWidget(self.gpu_help)
        ctx_row = QHBoxLayout()
        ctx_row.addWidget(self.ctx, 1)
        ctx_row.addWidget(self.ctx_help)
        self.details = QWidget()  # the settings' form, the memory plan beside it (a short page stays short), and
        columns = QHBoxLayout()  # the chat template under both (its row is wide)
        form, below = QFormLayout(), QFormLayout()
        columns.addLayout(form, 1)
        columns.addWidget(self.plan_view, 1)
        rows = QVBoxLayout(self.details)
        rows.setContentsMargins(0, 4, 0, 0)
        rows.addLayout(columns)
        rows.addLayout(below)
        form.addRow("Context size", ctx_row)
        form.addRow("GPU layers", gpu_row)
        form.addRow("", self.estimate)
        form.addRow("Flash attention", self.flash)
        form.addRow("KV cache", self.kv_cache)
        form.addRow("Batch size", self.batch)
        form.addRow("CPU threads", self.threads)
        form.addRow("", self.mmap)
        self.projector = ProjectorSetting.attach(self, form)  # a vision model's: GPU or CPU, and its memory
        form.addRow("Engine", self.engine_picker)
        self.template = TemplatePicker()
        self._template_files: dict[str, str] = {}
        below.addRow("Chat template", self.template)
        self.details.setVisible(not picker)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)
        layout.addWidget(self.details)
        layout.addWidget(self.status)
        for hidden in (bar, self.status, self.ctx_help, self.gpu_help) if not picker else ():
            hidden.setVisible(False)  # (a dialog has no help page to open)
        below.setRowVisible(self.template, picker)

        self.more.toggled.connect(self.details.setVisible)
        self.load_button.clicked.connect(self._request_load)
        self.eject_button.clicked.connect(self.eject_requested)
        self.picker.currentIndexChanged.connect(self._on_model_chosen)
        self.picker.activated.connect(lambda _i: self._request_load())  # choosing a model loads it
        self.gpu.valueChanged.connect(self._on_gpu_changed)
        self.gpu_auto.toggled.connect(self._on_gpu_changed)
        self.ctx.valueChanged.connect(self._on_gpu_changed)
        self.flash.currentIndexChanged.connect(lambda _: self.settings_changed.emit())
        self.kv_cache.currentIndexChanged.connect(self._on_gpu_changed)
        self.batch.valueChanged.connect(lambda _: self.settings_changed.emit())
        self.settings_changed.connect(self._show_plan)
        self._apply_backend()

    # ---------------------------------------------------------------- state

    def set_machine(self, probe) -> None:
        """What this computer offers (app.machine_probe.MachineProbe), probed outside the GUI process."""
        self.gpu_backend = probe.usable_backend
        self.free_vram, self.free_ram = probe.free_vram, probe.free_ram
        self._apply_backend()
        if self.gpu_backend != "none":
            self._show_gpu_setting(self._saved_gpu_layers)

    def _apply_backend(self) -> None:
        if self.gpu_backend is None:
            self.estimate.setText("Checking this computer's GPU…")
            return
        has_gpu = self.gpu_backend != "none"
        for widget, tip in ((self.gpu, GPU_TIP), (self.gpu_auto, GPU_AUTO_TIP)):
            widget.setEnabled(has_gpu)
            widget.setToolTip(NO_BACKEND_TIP if not has_gpu else tip)
        if not has_gpu:
            self.gpu_auto.setChecked(False)
            self.gpu.setValue(0)
            self.estimate.setText("CPU only: this llama.cpp build has no GPU backend. "
                                  "See README, GPU support, to rebuild it with one.")
        self._on_gpu_changed()

    def set_models(self, models: list[LocalModel], keep: str = "") -> None:
        keep = keep or self.current_path()
        self.models = [m for m in models if m.info is not None]
        self.picker.blockSignals(True)
        fill_picker(self.picker, self.models, self.remote_models,
                    lambda arch, path: self.engine_picker.use(arch, path).sentence)
        index = self.picker.findData(keep) if keep else -1
        if index < 0 and keep:  # a copy of a listed model: its one row
            index = next((i for i, m in enumerate(self.models) if Path(keep) in m.locations), -1)
        self.picker.setCurrentIndex(max(index, 0))
        self.picker.blockSignals(False)
        self.load_button.setEnabled(bool(self.models or self.remote_models))
        self._on_model_chosen()

    def header(self, path: str):
        """The library's header facts (GGUFInfo) for a model at `path` (any of its copies), or None."""
        return next((m.info for m in self.models if Path(path) in m.locations), None)

    def set_remote_models(self, models: list[tuple[str, str]]) -> None:
        """(label, remote path) for each model the configured servers list; shown after the local ones."""
        self.remote_models = list(models)
        self.set_models(self.models)

    def open_picker(self) -> None:
        """Keyboard first (Ctrl+K): focus the model picker and drop its list down."""
        self.picker.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.picker.showPopup()

    def current_path(self) -> str:
        return self.picker.currentData() or ""

    def choices(self) -> list[tuple[str, str]]:
        """(label, path) for every model the picker offers."""
        return [(self.picker.itemText(i), self.picker.itemData(i)) for i in range(self.picker.count())
                if self.picker.itemData(i)]

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
        self.engine_picker.setVisible(model is not None)  # a remote model runs on its server
        if model is None or model.info is None:
            return self._show_plan()
        self.engine_picker.show_model(str(model.path), model.info.architecture)
        self.template.set_file(self._template_files.get(str(model.path), ""))
        self.ctx.setMaximum(limits.context_maximum(model.info.context_length))
        self.gpu.setRange(0, model.info.n_layers + 1)
        self._on_gpu_changed()
        self.model_chosen.emit(str(model.path))

    def _on_gpu_changed(self, *_args) -> None:
        model = self.current_model()
        info = model.info if model is not None else None
        total = info.n_layers + 1 if info is not None else 0
        if self.gpu_backend not in (None, "none") and info is not None:
            if self.gpu_auto.isChecked():
                from app.hardware import describe_fit, fit_gpu_layers

                fit = fit_gpu_layers(info, self.ctx.value(), self.kv_cache.currentData(), self.free_vram)
                self.gpu.blockSignals(True)
                self.gpu.setValue(fit.n_gpu_layers)
                self.gpu.blockSignals(False)
                self.estimate.setText(describe_fit(fit))
            else:
                self.estimate.setText(f"{self.gpu.value()} of {total} layers on the GPU (chosen by you)")
        self.gpu.setEnabled(self.gpu_backend not in (None, "none") and not self.gpu_auto.isChecked())
        self.gpu_label.setText(f"{self.gpu.value()} / {total}")
        self.settings_changed.emit()

    def _show_plan(self) -> None:
        model = self.current_model()
        gpu_layers = self.gpu.value() if self.gpu_backend not in (None, "none") else 0
        self.plan_view.show_settings(model.info if model is not None else None, self.ctx.value(), gpu_layers,
                                     self.kv_cache.currentData(), self.flash.currentData(), self.batch.value(),
                                     self.free_ram, self.free_vram, **self.projector.plan_args(model))

    def set_values(self, settings) -> None:
        """Show saved load settings (app.settings.Settings)."""
        self.ctx.setValue(settings.n_ctx)
        self._saved_gpu_layers = settings.n_gpu_layers
        if self.gpu_backend not in (None, "none"):
            self._show_gpu_setting(settings.n_gpu_layers)
        flash = flash_value(settings.flash_attn)
        self.flash.setCurrentIndex(max(self.flash.findData(flash), 0))
        self.kv_cache.setCurrentIndex(max(self.kv_cache.findData(settings.kv_cache_type), 0))
        self.batch.setValue(settings.n_batch)
        self.threads.setValue(settings.n_threads)
        self.mmap.setChecked(settings.use_mmap)
        self.projector.load_from(settings)
        self._template_files = {str(k): str(v) for k, v in settings.chat_template_files.items()}
        self.template.set_file(self._template_files.get(self.current_path(), ""))

    def load_values(self) -> dict:
        """The load settings shown now, by name (as Settings and model_defaults keep them)."""
        values = SimpleNamespace(chat_template_files={})
        self.store_values(values)
        return {name: getattr(values, name) for name in LOAD_FIELDS}

    def apply_load_values(self, values: dict) -> None:
        """Show these load settings (a model's remembered ones); the template override is left as it is."""
        self.set_values(SimpleNamespace(**values, chat_template_files=dict(self._template_files)))

    def _show_gpu_setting(self, n_gpu_layers: int) -> None:
        self.gpu_auto.setChecked(n_gpu_layers == AUTO_LAYERS)
        if n_gpu_layers >= 0:
            self.gpu.setValue(n_gpu_layers)

    def store_values(self, settings) -> None:
        settings.n_ctx = self.ctx.value()
        if self.gpu_backend not in (None, "none"):  # without a GPU the slider says nothing about the user's choice
            self._saved_gpu_layers = self.gpu_setting()
        settings.n_gpu_layers = self._saved_gpu_layers
        settings.flash_attn = FLASH_TEXT[self.flash.currentData()]  # how settings.json stores the choice
        settings.kv_cache_type = self.kv_cache.currentData()
        settings.n_batch = self.batch.value()
        settings.n_threads = self.threads.value()
        settings.use_mmap = self.mmap.isChecked()
        self.projector.save_to(settings)
        path = self.current_path()
        if path:  # the template override is remembered per model
            if self.template.file():
                self._template_files[path] = self.template.file()
            else:
                self._template_files.pop(path, None)
        settings.chat_template_files = dict(self._template_files)

    def options(self, path: str | None = None) -> LoadOptions:
        if self.gpu_backend == "none":
            gpu_layers = 0
        elif self.gpu_backend is None:  # not probed yet: the saved choice (the engine resolves "auto")
            gpu_layers = self._saved_gpu_layers
        else:
            gpu_layers = self.gpu_setting()
        return LoadOptions(path=path or self.current_path(), n_ctx=self.ctx.value(), n_gpu_layers=gpu_layers,
                           flash_attn=self.flash.currentData(), n_threads=self.threads.value(), mmproj=AUTO_PROJECTOR,
                           n_batch=self.batch.value(), kv_cache_type=self.kv_cache.currentData(),
                           use_mmap=self.mmap.isChecked(), chat_template_file=self.template.file(),
                           mmproj_gpu=self.projector.use_gpu())

    def gpu_setting(self) -> int:
        """AUTO_LAYERS when automatic, else the chosen layer count."""
        return AUTO_LAYERS if self.gpu_auto.isChecked() else self.gpu.value()

    def _request_load(self) -> None:
        if self.current_path():
            self.load_requested.emit(self.options())

    # ---------------------------------------------------------------- feedback

    def show_loading(self, name: str) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.load_button.setEnabled(False)
        self.status.setText(f"Loading {name}…" + (f" It may not fit: {self.plan_view.advice}." if
                                                   self.plan_view.advice else ""))

    def show_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 100))

    def show_state(self, text: str, loaded: bool, error: bool = False) -> None:
        """What the engine holds now: `loaded` shows Eject; an error shows in red."""
        self.progress.setVisible(False)
        self.load_button.setEnabled(bool(self.models or self.remote_models))
        self.eject_button.setVisible(loaded)
        self.status.setStyleSheet("color: #dc2626;" if error else "")
        self.status.setText(text)

