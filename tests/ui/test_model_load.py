"""One model-load controller (ModelLoad) for the chat page and Compare, one load-settings widget for both:
loads are told apart by job id, the same options loaded mean no second load."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from app import load_limits as limits
from app.engine import SamplingParams
from app.engine.protocol import LoadOptions
from app.ui.compare.column_settings import ColumnSettings
from app.ui.model_load import ModelLoad
from app.ui.widgets.load_settings import LoadSettings
from tests.ui.conftest import load


def watch(model_load: ModelLoad) -> dict[str, list]:
    heard: dict[str, list] = {"loaded": [], "failed": [], "others_loaded": [], "others_failed": []}
    for name, seen in heard.items():
        getattr(model_load, name).connect(seen.append)
    return heard


def test_the_chat_page_and_a_compare_column_use_one_widget_with_one_set_of_limits(qtbot, window, tiny_model,
                                                                                     monkeypatch):
    load(qtbot, window, tiny_model)  # the model is in the library now, with its header
    chat = window.chat_page.load_settings
    compare = window.compare_page
    window.show_page(compare)
    compare.controller.new([str(tiny_model)], lambda path: ({"n_ctx": 512, "n_gpu_layers": 0},
                                                            SamplingParams(temperature=0.0)))
    shown: list[ColumnSettings] = []

    def accept(dialog: ColumnSettings) -> int:
        shown.append(dialog)
        dialog.load.ctx.setValue(1536)
        dialog.load.kv_cache.setCurrentIndex(dialog.load.kv_cache.findData("q8_0"))
        return 1

    monkeypatch.setattr(ColumnSettings, "exec", accept)
    qtbot.mouseClick(compare.views[0].settings_button, Qt.MouseButton.LeftButton)
    column = shown[0].load
    assert type(column) is type(chat) is LoadSettings
    for control in ("ctx", "batch", "threads"):
        a, b = getattr(chat, control), getattr(column, control)
        assert (a.minimum(), a.maximum()) == (b.minimum(), b.maximum()), control
    assert chat.ctx.maximum() == column.ctx.maximum() == 2048  # the tiny model's trained context, in both
    assert chat.batch.maximum() == limits.BATCH_MAX and chat.ctx.minimum() == limits.CONTEXT_MIN
    for choices in ("kv_cache", "flash"):
        a, b = getattr(chat, choices), getattr(column, choices)
        assert [a.itemData(i) for i in range(a.count())] == [b.itemData(i) for i in range(b.count())]
    assert column.ctx.accessibleName() == "Context size" and column.gpu.accessibleName() == "GPU layers"
    assert not column.picker.isVisibleTo(shown[0]) and column.details.isVisibleTo(shown[0])
    saved = compare.controller.columns[0].record.load
    assert saved["n_ctx"] == 1536 and saved["kv_cache_type"] == "q8_0"
    assert saved["n_gpu_layers"] == 0  # this machine has no GPU backend (the window's probe says so)
    assert compare.controller.options(compare.controller.columns[0]).kv_cache_type == "q8_0"


def test_a_load_that_finishes_for_job_a_is_not_taken_as_job_bs(qtbot, window, tiny_model, scripted_model):
    engine = window.engine
    mine, other = ModelLoad(engine), ModelLoad(engine)
    heard, theirs = watch(mine), watch(other)
    finished: list[int] = []
    engine.loaded.connect(lambda job, _info: finished.append(job))
    job_a = mine.load(LoadOptions(str(tiny_model), n_ctx=512))
    job_b = mine.load(LoadOptions(str(scripted_model), n_ctx=512))  # a newer pick replaces the first
    assert job_a != job_b and mine.job == job_b and mine.loading
    qtbot.waitUntil(lambda: job_b in finished, timeout=30000)
    assert finished == [job_a, job_b]  # A did finish first, and was not taken as B
    assert [info.path for info in heard["loaded"]] == [str(scripted_model)]
    assert heard["others_loaded"] == [] and not mine.loading
    # someone else on the same engine hears both, as not its own
    assert [info.path for info in theirs["others_loaded"]] == [str(tiny_model), str(scripted_model)]
    assert theirs["loaded"] == [] and not other.loading
    # and the chat page, which asked for neither, did not take either as its own
    page = window.chat_page
    assert not page.model_state.loading and page.load_settings.status.text().endswith("loaded by Compare")


def test_a_failed_load_is_reported_to_whoever_asked_for_it_only(qtbot, window, broken_models):
    mine, other = ModelLoad(window.engine), ModelLoad(window.engine)
    heard, theirs = watch(mine), watch(other)
    with qtbot.waitSignal(mine.failed, timeout=30000):
        mine.load(LoadOptions(str(broken_models["not_gguf"])))
    assert heard["loaded"] == [] and len(heard["failed"]) == 1 and not mine.loading
    assert theirs["failed"] == [] and theirs["others_failed"] == heard["failed"]


def test_the_same_options_loaded_mean_no_second_load_and_compare_asks_for_its_own(qtbot, window, scripted_model):
    engine = window.engine
    chat, column = ModelLoad(engine), ModelLoad(engine)
    finished: list[int] = []
    engine.loaded.connect(lambda job, _info: finished.append(job))
    options = LoadOptions(str(scripted_model), n_ctx=512)
    with qtbot.waitSignal(chat.loaded, timeout=30000):
        assert chat.ensure(options)
    assert chat.ensure(options) == 0 and chat.holds(options) and chat.holds(options, own=True)
    assert not chat.holds(replace(options, n_ctx=1024))  # other settings: a load
    qtbot.wait(200)
    assert len(finished) == 1  # nothing more was loaded
    # a Compare column wants its own load (a clean prompt cache); the chat then no longer holds its own
    assert column.holds(options) and not column.holds(options, own=True)
    with qtbot.waitSignal(column.loaded, timeout=30000):
        column.load(options)
    assert column.holds(options, own=True) and chat.holds(options) and not chat.holds(options, own=True)
    with qtbot.waitSignal(engine.ejected, timeout=30000):
        chat.eject()
    assert not column.holds(options) and not chat.holds(options)


def test_picking_the_loaded_model_again_keeps_it_and_regenerate_with_it_runs_at_once(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model, n_ctx=512)
    finished: list[int] = []
    window.engine.loaded.connect(lambda job, _info: finished.append(job))
    ran: list[str] = []
    page.model_state.load(page.load_settings.options(), then=lambda: ran.append("then"))
    assert ran == ["then"] and not page.model_state.loading and finished == []
    assert "not loaded" not in page.load_settings.status.text()
