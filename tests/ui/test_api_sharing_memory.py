"""Sharing the model with the app's API server costs a second KV cache: the memory plan shows it, and
where memory is short the model stays as it is (API requests wait behind chat replies) with a sentence,
instead of a load that runs out of memory and leaves no model."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from app.library.gguf_info import read_gguf_info
from app.remote_endpoints import EndpointStore
from app.ui.server_settings import ServerSettingsDialog
from tests.ui.conftest import load

PLENTY = 64 << 30


def kv_row(window) -> str:
    rows = window.chat_page.load_settings.plan_view.rows()
    return next(name for name, _planned, _measured in rows if name.startswith("KV cache"))


def start_server(qtbot, window, tmp_path) -> ServerSettingsDialog:
    dialog = ServerSettingsDialog(window.engine.client, window.api_server,
                                  EndpointStore(tmp_path, use_keyring=False), window.tasks)
    qtbot.addWidget(dialog)
    dialog.server_switch.setChecked(True)
    qtbot.waitUntil(lambda: dialog.url_edit_out.text() != "", timeout=15_000)
    return dialog


def stop_server(qtbot, window, dialog: ServerSettingsDialog) -> None:
    dialog.server_switch.setChecked(False)
    qtbot.waitUntil(lambda: window.api_server.server is None, timeout=10_000)


def test_the_plan_counts_the_api_servers_kv_cache(qtbot, window, smollm2, tmp_path):
    window.engine.remember_headers([SimpleNamespace(path=smollm2, info=read_gguf_info(smollm2))])
    window.engine.free_memory = lambda _gpu: (PLENTY, 0)
    load(qtbot, window, smollm2)
    single = {name: planned for name, planned, _m in window.chat_page.load_settings.plan_view.rows()}
    assert kv_row(window) == "KV cache"
    dialog = start_server(qtbot, window, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.engine.info is not None and window.engine.info.n_parallel == 2,
                        timeout=30_000)
        plan_view = window.chat_page.load_settings.plan_view
        # the router holds the new load's info before the window's slot for it has run (a queued signal)
        qtbot.waitUntil(lambda: plan_view.measured is not None and plan_view.measured.n_parallel == 2, timeout=10_000)
        assert kv_row(window) == "KV cache ×2 (chats, API)"
        assert "loaded by Compare" not in window.chat_page.load_settings.status.text()  # still the chat's model
        shared = {name: planned for name, planned, _m in window.chat_page.load_settings.plan_view.rows()}
        assert shared[kv_row(window)] != single["KV cache"]  # twice the cache, as llama.cpp measures it
        measured = {name: got for name, _p, got in window.chat_page.load_settings.plan_view.rows()}
        assert measured[kv_row(window)] == shared[kv_row(window)]
        assert "wait behind" not in dialog.queue_label.text()
    finally:
        stop_server(qtbot, window, dialog)
    qtbot.waitUntil(lambda: window.engine.info is not None and window.engine.info.n_parallel == 1, timeout=30_000)
    assert kv_row(window) == "KV cache"


def test_without_memory_for_a_second_cache_the_model_stays_and_the_dialog_says_why(qtbot, window, smollm2,
                                                                                    tmp_path):
    window.engine.remember_headers([SimpleNamespace(path=smollm2, info=read_gguf_info(smollm2))])
    window.engine.free_memory = lambda _gpu: (1 << 20, 0)  # 1 MiB free: no room for 1024 more cache cells
    load(qtbot, window, smollm2)
    loads = []
    window.engine.loaded.connect(lambda job, info: loads.append(info))
    dialog = start_server(qtbot, window, tmp_path)
    try:
        qtbot.waitUntil(lambda: "wait behind chat replies" in dialog.queue_label.text(), timeout=5_000)
        assert "second KV cache of about" in dialog.queue_label.text()
        qtbot.wait(300)
        assert not loads and window.engine.info.n_parallel == 1  # not loaded again: the chat keeps its model
        assert kv_row(window) == "KV cache"
        # another load while the server runs (a larger context) is checked again: still one sequence
        with qtbot.waitSignal(window.engine.loaded, timeout=30_000):
            window.engine.load(replace(window.engine.loaded_options, n_ctx=2048))
        assert window.engine.info.n_parallel == 1 and window.engine.info.n_ctx == 2048
        assert "wait behind chat replies" in window.engine.sharing_note
    finally:
        stop_server(qtbot, window, dialog)
    assert window.engine.sharing_note == ""
