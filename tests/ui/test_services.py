"""EngineService: starts the engine ahead of time, sends the headers the library already read, and
reports every job by the id it returned, on the GUI thread, with no thread of its own that waits."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QThread

from app.engine import ChatMessage, LoadOptions, OverflowPolicy, SamplingParams
from app.engine.protocol import Loaded
from app.library.gguf_info import read_gguf_info
from app.library.library import LocalModel
from app.ui.services import EngineService


def test_load_sends_the_header_the_library_read(qtbot, tiny_model, monkeypatch):
    service = EngineService()
    try:
        sent = []

        def start_load(options, on_event, gguf=None, job_id=0):
            sent.append(gguf)
            on_event(Loaded(job_id, None))
            return job_id

        monkeypatch.setattr(service.client, "start_load", start_load)
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


def test_every_event_carries_the_id_its_job_was_given(qtbot, scripted_model):
    service = EngineService()
    seen: dict[str, set[int]] = {}
    gui = threading.current_thread()
    threads: set[threading.Thread] = set()

    def record(name: str):
        def slot(job_id, *_args) -> None:
            seen.setdefault(name, set()).add(job_id)
            threads.add(threading.current_thread())
        return slot

    for name in ("load_progress", "loaded", "token", "finished", "counted"):
        getattr(service, name).connect(record(name))
    try:
        with qtbot.waitSignal(service.loaded, timeout=30000):
            load_id = service.load(LoadOptions(str(scripted_model), n_ctx=256))
        history = [ChatMessage("user", "Hi")]
        with qtbot.waitSignals([service.finished, service.counted], timeout=30000):
            chat_id = service.chat(history, SamplingParams(temperature=0.0, max_tokens=8), OverflowPolicy.STOP)
            count_id = service.count(history, "and more", OverflowPolicy.STOP, 8)
        assert len({load_id, chat_id, count_id}) == 3
        assert seen == {"load_progress": {load_id}, "loaded": {load_id}, "token": {chat_id},
                        "finished": {chat_id}, "counted": {count_id}}
        assert threads == {gui}  # every signal arrived on the GUI thread
        assert service.loaded_options == LoadOptions(str(scripted_model), n_ctx=256)
    finally:
        service.shutdown()


def test_a_failed_load_names_its_job(qtbot, tmp_path):
    service = EngineService()
    try:
        with qtbot.waitSignal(service.load_failed, timeout=30000) as failed:
            job_id = service.load(LoadOptions(str(tmp_path / "missing.gguf")))
        assert failed.args[0] == job_id and "missing.gguf" in failed.args[1]
        assert service.loaded_options is None
    finally:
        service.shutdown()


def test_the_service_has_no_thread_that_waits_for_events(qtbot):
    """Events come by callbacks and Qt's queue: no QThread, and no thread of its own but the starter."""
    before = set(threading.enumerate())
    service = EngineService()
    try:
        assert service.findChildren(QThread) == []
        source = (Path(__file__).parents[2] / "app" / "ui" / "services.py").read_text(encoding="utf-8")
        assert "QThread" not in source and "moveToThread" not in source
        added = {t.name for t in set(threading.enumerate()) - before}
        assert added == {"hearth-engine-start"}
    finally:
        service.shutdown()
