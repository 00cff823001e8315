"""The model picker's load settings: GPU controls follow the machine probe; choices are saved by value."""

from __future__ import annotations

from app.engine.protocol import AUTO_LAYERS
from app.hardware import GpuDevice
from app.library.gguf_info import read_gguf_info
from app.library.library import LocalModel
from app.machine_probe import MachineProbe
from app.settings import Settings
from app.ui.widgets.load_settings import NO_BACKEND_TIP, LoadSettings

GIB = 1024**3
NO_GPU = MachineProbe("none", False, (), 16 * GIB, 32 * GIB)
CUDA = MachineProbe("cuda", True, (GpuDevice("Test GPU", 16 * GIB, 8 * GIB, "nvml"),), 16 * GIB, 32 * GIB)


def test_gpu_controls_are_disabled_with_an_explanation(qtbot):
    widget = LoadSettings()
    qtbot.addWidget(widget)
    widget.set_machine(NO_GPU)
    assert not widget.gpu.isEnabled() and not widget.gpu_auto.isEnabled()
    assert widget.gpu.toolTip() == NO_BACKEND_TIP
    assert "no GPU backend" in widget.estimate.text()
    assert widget.options("/x.gguf").n_gpu_layers == 0


def test_gpu_controls_show_the_fit_estimate_from_the_probe(qtbot, tiny_model):
    widget = LoadSettings()
    qtbot.addWidget(widget)
    widget.set_machine(CUDA)
    widget.set_models([LocalModel(tiny_model, "hearth", read_gguf_info(tiny_model))])
    assert widget.gpu_auto.isChecked() and not widget.gpu.isEnabled()
    assert widget.estimate.text().startswith("all layers on the GPU")
    assert "8.6 GB free" in widget.estimate.text()  # the probe's number, not a probe on the GUI thread
    assert widget.options().n_gpu_layers == AUTO_LAYERS
    widget.gpu_auto.setChecked(False)
    widget.gpu.setValue(1)
    assert widget.options().n_gpu_layers == 1
    assert "1 of 3 layers" in widget.estimate.text()


def test_before_the_probe_reports_the_saved_choice_is_kept_and_sent(qtbot):
    widget = LoadSettings()
    qtbot.addWidget(widget)
    settings = Settings(n_gpu_layers=12)
    widget.set_values(settings)
    assert "Checking" in widget.estimate.text()
    assert widget.options("/x.gguf").n_gpu_layers == 12  # not forced to the CPU while the probe runs
    widget.set_machine(CUDA)
    assert not widget.gpu_auto.isChecked() and widget.options("/x.gguf").n_gpu_layers == 12
    widget.store_values(settings)
    assert settings.n_gpu_layers == 12


def test_a_machine_without_a_gpu_does_not_overwrite_the_saved_gpu_choice(qtbot):
    widget = LoadSettings()
    qtbot.addWidget(widget)
    settings = Settings(n_gpu_layers=20)
    widget.set_values(settings)
    widget.set_machine(NO_GPU)
    widget.store_values(settings)
    assert settings.n_gpu_layers == 20  # an eGPU unplugged today keeps tomorrow's choice


def test_flash_attention_is_saved_by_value_and_old_labels_still_read(qtbot):
    widget = LoadSettings()
    qtbot.addWidget(widget)
    settings = Settings(flash_attn="On")  # written by an older version from the label
    widget.set_values(settings)
    assert widget.flash.currentData() is True
    widget.flash.setCurrentIndex(widget.flash.findData(False))
    widget.store_values(settings)
    assert settings.flash_attn == "off"
