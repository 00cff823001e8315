"""The load settings of a vision model: its image projector on the GPU or the CPU, with its memory
there, remembered, and handed to the engine; a text model shows no such row."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox

from app import paths
from app.settings import Settings
from tests.support.tiny_vision import write_tiny_vision_pair
from tests.ui.test_journeys import choose_model, click, in_library, named, settle


def test_the_projector_runs_where_the_setting_says_and_the_setting_is_kept(make_window, qtbot, tiny_model):
    model, projector = write_tiny_vision_pair(paths.models_dir() / "someone" / "tiny-vision-GGUF")
    (text,) = in_library(tiny_model)
    window = make_window()
    settle(qtbot, window)
    settings = window.chat_page.load_settings
    click(qtbot, window.chat_page, "Load settings")
    choose_model(qtbot, window, model)
    box = named(window.chat_page, "Image projector on the GPU", QCheckBox)
    memory = settings.projector.memory.text()
    assert "KB of memory" in memory and "while it reads a picture" in memory  # no GPU here: system memory
    assert box.isChecked() and not box.isEnabled()  # no GPU backend on this machine: nothing to choose
    shown = {row[0]: row[1] for row in settings.plan_view.rows()}  # the memory plan counts it as well
    assert "Image projector" in shown and "KB" in shown["Image projector"] and "GPU" not in shown["Image projector"]
    settings.gpu_backend = "cuda"  # as a machine with a GPU reports it
    settings.settings_changed.emit()
    assert box.isEnabled() and "KB of GPU memory" in settings.projector.memory.text()
    assert "GPU" in {row[0]: row[1] for row in settings.plan_view.rows()}["Image projector"]
    box.click()
    assert "KB of memory" in settings.projector.memory.text()
    assert settings.options().mmproj_gpu is False
    with qtbot.waitSignal(window.chat_page.model_loaded, timeout=60000):
        click(qtbot, window.chat_page, "Load model")
    assert window.engine.info.mmproj == str(projector)  # still sees images, its projector on the CPU
    assert box.isVisible()
    choose_model(qtbot, window, text)
    assert not settings.projector.isVisible()  # a text model has no projector to place
    window.close()
    assert Settings.load().mmproj_gpu is False
