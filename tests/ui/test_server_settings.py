from __future__ import annotations

import httpx

from app.engine.protocol import ModelInfo
from app.remote_endpoints import EndpointStore
from app.ui.server_settings import ApiServerHolder, ServerSettingsDialog
from app.ui.tasks import BackgroundTasks
from tests.server.test_safety import NoEngine
from tests.support.servers import free_port


class LoadedEngine(NoEngine):
    info = ModelInfo(path="/models/tiny-chat.gguf", name="tiny", architecture="llama", n_params=0, size_bytes=0,
                     n_ctx=512, n_ctx_train=512, n_layers=1, n_gpu_layers=0, n_vocab=10, chat_template="gguf",
                     flash_attn=None, load_seconds=0.0)


def test_endpoints_are_added_with_the_key_storage_named(qtbot, tmp_path):
    dialog = ServerSettingsDialog(NoEngine(), ApiServerHolder(), EndpointStore(tmp_path, use_keyring=False),
                                  BackgroundTasks())
    qtbot.addWidget(dialog)
    assert "readable only by you" in dialog.endpoint_status.text()
    dialog.url_edit.setText("not a url://")
    dialog.add_endpoint()
    assert dialog.endpoint_list.count() == 0 and "not a server address" in dialog.endpoint_status.text()
    dialog.name_edit.setText("box")
    dialog.url_edit.setText("box:8080")
    dialog.key_edit.setText("k")
    dialog.add_endpoint()
    assert dialog.endpoint_list.item(0).text() == "box — http://box:8080"
    assert dialog.store.api_key("http://box:8080") == "k"
    dialog.endpoint_list.setCurrentRow(0)
    dialog.remove_endpoint()
    assert dialog.endpoint_list.count() == 0


def test_the_api_server_switch_serves_the_loaded_model_and_shows_its_url(qtbot, tmp_path):
    holder = ApiServerHolder()
    dialog = ServerSettingsDialog(LoadedEngine(), holder, EndpointStore(tmp_path, use_keyring=False), BackgroundTasks())
    qtbot.addWidget(dialog)
    dialog.port_spin.setValue(free_port())
    dialog.server_switch.setChecked(True)
    qtbot.waitUntil(lambda: dialog.url_edit_out.text() != "", timeout=10_000)
    try:
        assert dialog.url_edit_out.text().startswith("http://127.0.0.1:")
        assert "0 waiting" in dialog.queue_label.text()
        models = httpx.get(dialog.url_edit_out.text() + "/models").json()
        assert models["data"][0]["id"] == "tiny-chat"
    finally:
        dialog.server_switch.setChecked(False)
    qtbot.waitUntil(lambda: dialog.queue_label.text() == "Off", timeout=10_000)
    assert holder.server is None


def test_the_switch_needs_a_loaded_model(qtbot, tmp_path):
    dialog = ServerSettingsDialog(NoEngine(), ApiServerHolder(), EndpointStore(tmp_path, use_keyring=False),
                                  BackgroundTasks())
    qtbot.addWidget(dialog)
    dialog.server_switch.setChecked(True)
    dialog._refresh_server()  # what the timer does: the reason stays on screen
    assert not dialog.server_switch.isChecked() and "Load a model first" in dialog.queue_label.text()


def test_a_key_the_keyring_refuses_is_kept_and_the_dialog_says_where(qtbot, tmp_path):
    from tests.test_remote_endpoints import LockedKeyring

    dialog = ServerSettingsDialog(NoEngine(), ApiServerHolder(), EndpointStore(tmp_path, keyring=LockedKeyring()),
                                  BackgroundTasks())
    qtbot.addWidget(dialog)
    dialog.url_edit.setText("box:8080")
    dialog.key_edit.setText("k")
    dialog.add_endpoint()
    assert "refused" in dialog.endpoint_status.text() and "readable only by you" in dialog.endpoint_status.text()
    assert dialog.store.api_key("http://box:8080") == "k"


def test_web_pages_allowed_in_the_settings_may_use_the_server_and_others_may_not(qtbot, tmp_path):
    holder = ApiServerHolder()
    dialog = ServerSettingsDialog(LoadedEngine(), holder, EndpointStore(tmp_path, use_keyring=False), BackgroundTasks())
    qtbot.addWidget(dialog)
    dialog.port_spin.setValue(free_port())
    dialog.origins_edit.setText("localhost:3000")  # no scheme: not an origin
    dialog.server_switch.setChecked(True)
    assert not dialog.server_switch.isChecked() and "is not a web origin" in dialog.queue_label.text()
    dialog.origins_edit.setText("http://localhost:3000, https://app.example")
    dialog.server_switch.setChecked(True)
    qtbot.waitUntil(lambda: dialog.url_edit_out.text() != "", timeout=10_000)
    server = holder.server
    try:
        assert not dialog.origins_edit.isEnabled()  # fixed while the server runs, like the port
        models = dialog.url_edit_out.text() + "/models"
        allowed = httpx.get(models, headers={"Origin": "https://app.example"})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert httpx.get(models, headers={"Origin": "https://evil.example"}).status_code == 403
        assert httpx.get(models, headers={"Host": "evil.example"}).status_code == 403
    finally:
        dialog.server_switch.setChecked(False)
    qtbot.waitUntil(lambda: dialog.tasks.running == 0, timeout=10_000)  # the stop job has reported back
    assert not server.running and holder.server is None and dialog.queue_label.text() == "Off"
    assert holder.allowed_origins == ["http://localhost:3000", "https://app.example"]
