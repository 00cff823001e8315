"""Journeys through the real window for the engine a model runs on and its memory plan: the load
settings' Engine row and Memory plan, found by their accessible names, with the real SmolLM2 model
and (where it is cached) the llama-server built from Hearth's own llama.cpp."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox, QWidget

from app.engine import server_runtime
from app.library import architectures
from app.settings import Settings
from tests.support.servers import llama_server_binary
from tests.ui.test_journeys import (
    assistant_cards,
    choose_model,
    click,
    in_library,
    named,
    settle,
    type_and_send,
    type_number,
    wait_reply,
)


def plan_rows(page) -> dict[str, tuple[str, str]]:
    """The memory plan as shown: component → (planned, measured)."""
    table = named(page, "Memory plan", QWidget)
    rows = [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]
    return {name: (planned, measured) for name, planned, measured in rows}


def choose(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0 and combo.model().item(index).isEnabled()
    combo.setCurrentIndex(index)


def test_the_plan_follows_the_settings_the_engine_choice_is_kept_and_the_load_is_measured(
        make_window, qtbot, smollm2):
    (smollm2,) = in_library(smollm2)
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    page.load_settings.select_path(str(smollm2))
    click(qtbot, page, "Load settings")

    # the plan, per component, before any load; it follows the context and the cache type
    type_number(qtbot, page, "Context size", 2048)
    small = plan_rows(page)
    assert {"Weights", "KV cache", "Compute buffers (reserved)", "Total, at most"} <= small.keys()
    assert all(measured == "" for _planned, measured in small.values())  # nothing loaded yet
    type_number(qtbot, page, "Context size", 8192)
    assert plan_rows(page)["KV cache"][0] != small["KV cache"][0]
    kv_f16 = window.chat_page.load_settings.plan_view.plan.part("kv_cache").total
    choose(named(page, "KV cache type", QComboBox), "q8_0")
    assert window.chat_page.load_settings.plan_view.plan.part("kv_cache").total < kv_f16
    assert "once loaded" in named(page, "Memory fit", QWidget).text()

    # the engine row says what runs it, and a choice is kept per model (on disk too)
    engine = named(page, "Engine", QComboBox)
    assert named(page, "Engine note", QWidget).text().startswith("Engine: built-in (llama.cpp ")
    choose(engine, "built-in")
    assert window.settings.model_engines == {str(smollm2): "built-in"}
    assert Settings.load().model_engines == {str(smollm2): "built-in"}
    assert not engine.model().item(engine.findData("llama-server")).isEnabled()  # none is set

    # after the load, what llama.cpp and the process measured stands beside the plan
    choose_model(qtbot, window, smollm2)
    rows = plan_rows(page)
    for name in ("Weights", "KV cache", "Resident (engine process)"):
        assert rows[name][1].endswith(("MB", "GB", "KB")), (name, rows[name])
    info = window.engine.info
    planned = window.chat_page.load_settings.plan_view.plan
    assert abs(planned.resident_bytes - info.resident_bytes) < 0.15 * info.resident_bytes


def test_a_model_only_the_runtime_knows_runs_there_by_itself_and_closing_stops_the_server(
        make_window, qtbot, smollm2, monkeypatch):
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    # a llama-server newer than the built-in llama.cpp: here the built-in one is made not to know `llama`
    monkeypatch.setattr(architectures, "ARCHITECTURES", architectures.ARCHITECTURES - {"llama"})
    settings = Settings.load()
    settings.engine_runtime = str(binary)
    settings.save()
    (smollm2,) = in_library(smollm2)
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    picker = page.load_settings.engine_picker
    qtbot.waitUntil(lambda: picker.runtime is not None, timeout=30000)  # checked off the GUI thread
    page.load_settings.select_path(str(smollm2))
    click(qtbot, page, "Load settings")
    note = named(page, "Engine note", QWidget).text()
    assert "architecture is `llama`" in note and f"{picker.runtime.label} will run it (automatically)" in note
    assert named(page, "Engine", QComboBox).currentData() == ""  # automatic: nothing chosen by the user
    assert f"{picker.runtime.label} will run it" in window.library_page.message.text()

    type_number(qtbot, page, "Context size", 2048)
    choose_model(qtbot, window, smollm2)
    assert f"Engine: {picker.runtime.label}" in window.engine.info.notice
    (server,) = server_runtime._live
    process = server.process
    assert process is not None and process.poll() is None
    type_number(qtbot, page, "Max tokens", 8)
    type_and_send(qtbot, page, "Hi!")
    wait_reply(qtbot, window)
    assert assistant_cards(window)[0].item.content and not assistant_cards(window)[0].item.error

    window.close()  # closing the app stops every server it started
    assert process.poll() is not None and not server_runtime._live
