from __future__ import annotations

import stat

from app.remote_endpoints import Endpoint, EndpointStore, remote_models
from app.server.app import create_app
from tests.server.test_safety import NoEngine
from tests.support.servers import free_port, uvicorn_thread


def test_endpoints_and_keys_without_a_keyring_stay_private(tmp_path):
    store = EndpointStore(tmp_path, use_keyring=False)
    assert "readable only by you" in store.key_storage
    store.add(Endpoint("workstation", "box:8080/v1"), api_key="sesame")
    assert store.endpoints() == [Endpoint("workstation", "http://box:8080")]
    assert store.api_key("http://box:8080") == "sesame"
    assert stat.S_IMODE(store.keys_path.stat().st_mode) == 0o600
    assert "sesame" not in store.list_path.read_text()
    store.add(Endpoint("renamed", "http://box:8080"))  # replaced by URL; no key now
    assert [e.name for e in store.endpoints()] == ["renamed"]
    assert store.api_key("http://box:8080") == ""
    store.remove("http://box:8080")
    assert store.endpoints() == []


def test_remote_models_are_listed_per_endpoint_and_hidden_offline(tmp_path):
    store = EndpointStore(tmp_path, use_keyring=False)
    with uvicorn_thread(create_app(NoEngine(), "far-model", api_key="k")) as url:
        store.add(Endpoint("far", url), api_key="k")
        store.add(Endpoint("gone", f"http://127.0.0.1:{free_port()}"))
        listed = {e.name: (models, error) for e, models, error in remote_models(store)}
        assert remote_models(store, offline=True) == []
    assert listed["far"] == (["far-model"], "")
    assert listed["gone"][0] == [] and "could not connect" in listed["gone"][1]
