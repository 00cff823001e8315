from __future__ import annotations

import stat

import pytest

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


class LockedKeyring:
    """A keyring that refuses every write (a locked or broken OS keyring), as keyring's API does."""

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        raise PermissionError("the keyring is locked")

    def delete_password(self, service, username):
        raise PermissionError("the keyring is locked")


class MemoryKeyring(LockedKeyring):
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.saved.get((service, username))

    def set_password(self, service, username, password):
        self.saved[(service, username)] = password

    def delete_password(self, service, username):
        del self.saved[(service, username)]


def test_a_key_the_keyring_refuses_goes_to_the_private_file_and_the_user_is_told(tmp_path):
    store = EndpointStore(tmp_path, keyring=LockedKeyring())
    where = store.add(Endpoint("box", "http://box:8080"), api_key="sesame")
    assert "refused" in where and "the keyring is locked" in where and str(store.keys_path) in where
    assert store.api_key("http://box:8080") == "sesame"  # not lost
    assert stat.S_IMODE(store.keys_path.stat().st_mode) == 0o600
    store.remove("http://box:8080")
    assert store.api_key("http://box:8080") == ""


def test_a_key_the_keyring_takes_leaves_no_copy_in_the_file(tmp_path):
    EndpointStore(tmp_path, keyring=LockedKeyring()).add(Endpoint("box", "http://box:8080"), api_key="old")
    keyring = MemoryKeyring()
    store = EndpointStore(tmp_path, keyring=keyring)
    assert store.add(Endpoint("box", "http://box:8080"), api_key="new") == "The key is stored in the system keyring."
    assert store.api_key("http://box:8080") == "new" and "old" not in store.keys_path.read_text()


def test_a_failing_keyring_backend_set_through_the_keyring_package(tmp_path):
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class Failing(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            raise keyring.errors.PasswordSetError("no keyring daemon")

        def delete_password(self, service, username):
            raise keyring.errors.PasswordDeleteError("no keyring daemon")

    before = keyring.get_keyring()
    keyring.set_keyring(Failing())
    try:
        store = EndpointStore(tmp_path)
        assert store.key_storage == "the system keyring"
        where = store.add(Endpoint("box", "http://box:8080"), api_key="sesame")
    finally:
        keyring.set_keyring(before)
    assert "no keyring daemon" in where and store.api_key("http://box:8080") == "sesame"
