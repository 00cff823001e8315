"""A model on a remote OpenAI-compatible server, chosen in the picker and chatted with like a local one."""

from __future__ import annotations

from app.engine import EngineClient, LoadOptions
from app.engine.router import remote_path
from app.remote_endpoints import Endpoint, EndpointStore
from app.server.background import BackgroundServer
from app.ui.remote_models import list_remote_models
from tests.support.servers import free_port
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import wait_reply


def test_a_server_model_is_in_the_picker_answers_and_the_meter_says_it_estimates(qtbot, window, scripted_model):
    serving = EngineClient()  # another Hearth's engine behind its OpenAI-compatible API
    serving.load(LoadOptions(str(scripted_model), n_ctx=1024))
    server = BackgroundServer(serving, "scripted", port=free_port())
    server.start()
    try:
        EndpointStore(use_keyring=False).add(Endpoint("Workstation", server.url.rsplit("/v1", 1)[0]))
        with qtbot.waitSignal(window.chat_page.load_settings.picker.model().rowsInserted, timeout=10000,
                              raising=False):
            window.model_lists.refresh_remote()
        page = window.chat_page
        picker = page.load_settings.picker
        qtbot.waitUntil(lambda: picker.findText("scripted · Workstation") >= 0, timeout=10000)
        path = picker.itemData(picker.findText("scripted · Workstation"))
        assert path == remote_path(server.url.rsplit("/v1", 1)[0], "scripted")
        picker.setCurrentIndex(picker.findData(path))
        with qtbot.waitSignal(page.model_loaded, timeout=20000) as loaded:
            page.load_settings.load_button.click()
        assert loaded.args[0].path == path and window.engine.client.info is None  # the local engine was freed
        window.new_chat()
        type_and_send(qtbot, page, "Hello")
        wait_reply(qtbot, page)
        assert page.messages.item(1).content == " Hello world"
        qtbot.waitUntil(lambda: page.meter.numbers.text().startswith("≈"), timeout=10000)  # the server counts no tokens
        assert window.store.chat(page.chat_id).model_path == path  # reopening the chat offers the same model
    finally:
        server.stop()
        serving.close()


def test_offline_mode_lists_no_remote_models(monkeypatch):
    EndpointStore(use_keyring=False).add(Endpoint("Home server", "http://127.0.0.1:9"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert list_remote_models(EndpointStore(use_keyring=False)) == ([], [])
