"""EngineService: starts the engine ahead of time and sends the headers the library already read."""

from __future__ import annotations

from pathlib import Path

from app.engine import LoadOptions
from app.library.gguf_info import read_gguf_info
from app.library.library import LocalModel
from app.ui.services import EngineService


def test_load_sends_the_header_the_library_read(qtbot, tiny_model, monkeypatch):
    service = EngineService()
    try:
        sent = []
        monkeypatch.setattr(service.client, "load", lambda options, progress, gguf=None: sent.append(gguf) or None)
        header = read_gguf_info(tiny_model)
        service.remember_headers([LocalModel(Path(tiny_model), "folder", header)])
        with qtbot.waitSignal(service.loaded):
            service.load(LoadOptions(str(tiny_model)))
        assert sent == [header]
    finally:
        service.shutdown()


def test_start_engine_boots_the_process_off_the_gui_thread(qtbot):
    service = EngineService()
    try:
        assert not service.client.alive
        service.start_engine()
        qtbot.waitUntil(lambda: service.client.alive, timeout=10000)
    finally:
        service.shutdown()


def test_a_reply_after_a_crash_reports_the_model_loaded_again(qtbot, scripted_model):
    from app.engine import ChatMessage, OverflowPolicy, SamplingParams

    service = EngineService()
    try:
        with qtbot.waitSignal(service.loaded, timeout=30000) as first:
            service.load(LoadOptions(str(scripted_model), n_ctx=256))
        greedy = SamplingParams(temperature=0.0, max_tokens=8)
        with qtbot.waitSignal(service.finished, timeout=30000):  # a reply with no crash: nothing reloaded
            with qtbot.assertNotEmitted(service.reloaded):
                service.chat([ChatMessage("user", "Hi")], greedy, OverflowPolicy.TRUNCATE_MIDDLE)
        service.client.kill()
        qtbot.waitUntil(lambda: not service.client.alive, timeout=10000)
        reloads: list = []
        service.reloaded.connect(reloads.append)
        with qtbot.waitSignals([service.finished, service.reloaded], timeout=30000):
            service.chat([ChatMessage("user", "Hi")], greedy, OverflowPolicy.TRUNCATE_MIDDLE)
        assert len(reloads) == 1 and reloads[0].path == first.args[1].path and reloads[0] is not first.args[1]
    finally:
        service.shutdown()


def test_the_chat_page_shows_a_reloaded_models_note(qtbot, window):
    from dataclasses import replace

    from app.engine import ModelInfo

    info = ModelInfo("/m/a.gguf", "A", "llama", 1, 1, 2048, 2048, 4, 0, 10, "gguf", None, 0.2)
    window.chat_page.engine.reloaded.emit(replace(info, notice="models load without AMX"))
    assert "Note: models load without AMX" in window.chat_page.load_settings.status.text()


def test_a_reload_keeps_the_loaded_by_compare_tag(qtbot, window):
    from dataclasses import replace

    from app.engine import ModelInfo

    page = window.chat_page
    info = ModelInfo("/m/a.gguf", "A", "llama", 1, 1, 2048, 2048, 4, 0, 10, "gguf", None, 0.2)
    page.engine.loaded.emit(999, info)  # a job this page did not ask for: the Compare view loaded it
    assert page.load_settings.status.text().endswith("loaded by Compare")
    page.engine.reloaded.emit(replace(info, notice="models load without AMX"))
    first, note = page.load_settings.status.text().split("\n")
    assert first.endswith("loaded by Compare") and note == "Note: models load without AMX"
