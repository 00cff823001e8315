"""The load settings' memory plan: per component, following the settings, saying when a load may not fit, and
showing any component the plan has (a vision projector) without knowing it beforehand."""

from __future__ import annotations

from dataclasses import replace

from app.engine.protocol import ModelInfo
from app.library.gguf_info import read_gguf_info
from app.library.library import LocalModel
from app.library.memory_plan import Part, plan_memory
from app.machine_probe import MachineProbe
from app.ui.widgets.load_settings import LoadSettings
from app.ui.widgets.memory_plan_view import MemoryPlanView

MIB = 1024**2
GIB = 1024**3


def shown(view: MemoryPlanView) -> dict[str, tuple[str, str]]:
    return {name: (planned, measured) for name, planned, measured in view.rows()}


def test_too_little_free_memory_says_what_it_needs_and_what_to_change(qtbot, tiny_model):
    widget = LoadSettings()
    qtbot.addWidget(widget)
    widget.set_machine(MachineProbe("none", False, (), 20 * 10**6, 32 * GIB))  # 20 MB free
    widget.set_models([LocalModel(tiny_model, "hearth", read_gguf_info(tiny_model))])
    fit = widget.plan_view.fit.text()
    assert fit.startswith("May not fit: needs about ") and "20.0 MB free" in fit
    assert "a smaller context" in fit and "a q8_0 KV cache" in fit
    widget.show_loading("tiny.gguf")
    assert "It may not fit: needs about" in widget.status.text()

    widget.set_machine(MachineProbe("none", False, (), 16 * GIB, 32 * GIB))  # plenty
    assert widget.plan_view.fit.text().startswith("About ") and not widget.plan_view.advice


def test_every_component_of_the_plan_is_shown_and_measured_buffers_beside_it(qtbot, tiny_model):
    view = MemoryPlanView()
    qtbot.addWidget(view)
    plan = plan_memory(read_gguf_info(tiny_model), 512)
    with_more = replace(plan, parts=(*plan.parts, Part("audio_encoder", 3 * MIB)))
    view.show_plan(with_more, free_ram=16 * GIB)
    rows = shown(view)
    assert "Repacked weights (CPU)" not in rows  # an f32 model: nothing repacked, no row
    assert rows["Audio encoder"] == ("3.1 MB", "")  # a component this view was not written for
    assert view.table.isColumnHidden(2)  # nothing measured yet
    info = ModelInfo(path=str(tiny_model), name="t", architecture="llama", n_params=1, size_bytes=1, n_ctx=512,
                     n_ctx_train=512, n_layers=2, n_gpu_layers=0, n_vocab=1, chat_template="", flash_attn=None,
                     load_seconds=0.1,
                     buffers=(("CPU KV", 2 * MIB), ("CPU_Mapped model", MIB), ("CUDA0 model", MIB),
                              ("CPU_REPACK model", MIB), ("CPU scratch", MIB)),
                     resident_bytes=90 * MIB)
    view.show_measured(info)
    rows = shown(view)
    assert rows["KV cache"][1] == "2.1 MB" and rows["Weights"][1] == "2.1 MB"  # summed over devices
    assert rows["Repacked weights (CPU)"][1] == "1.0 MB"  # llama.cpp's second copy, beside its own plan
    assert rows["Scratch"] == ("", "1.0 MB")  # a buffer the plan has no part for still shows
    assert rows["Resident (engine process)"][1] == "94.4 MB"
    assert not view.table.isColumnHidden(2)
