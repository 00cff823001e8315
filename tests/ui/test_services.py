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
