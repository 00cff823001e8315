"""Saved remote endpoints (base URL + optional API key), no Qt.

The list lives in `remote_endpoints.json` in the config folder. A key goes to the
OS keyring through the `keyring` package when one is usable; otherwise into
`remote_keys.json` beside it, readable only by the user (mode 0600) — the
`key_storage` property says which, so the settings page can tell the user. A key the
keyring refuses (locked, no permission, a broken backend) goes to that file instead, and
`add` says so — a key is never dropped silently.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from app import paths
from app.atomic_json import write_json_atomically

KEYRING_SERVICE = "hearth-remote-endpoints"


@dataclass(frozen=True)
class Endpoint:
    name: str  # shown beside its models in the picker
    url: str


def _keyring():
    """The keyring module when a real backend is usable, else None."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - keyring backends raise their own errors: keys go to the private file
        return None
    # keyring's "fail" and empty chainer backends have priority 0: nothing would be stored.
    return keyring if getattr(backend, "priority", 0) > 0 else None


class EndpointStore:
    def __init__(self, folder: Path | None = None, use_keyring: bool = True, keyring=None) -> None:
        """`keyring`: an object with keyring's get/set/delete_password (default: the keyring package's, if usable)."""
        self.folder = folder or paths.config_dir()
        self.list_path = self.folder / "remote_endpoints.json"
        self.keys_path = self.folder / "remote_keys.json"
        self._use_keyring = use_keyring
        self._given_keyring = keyring

    @functools.cached_property
    def _keyring(self):
        """Looked for on first use, not when the store is made: finding a keyring backend can take a while
        (it may ask D-Bus), and the GUI makes its store at start, on the GUI thread."""
        return (self._given_keyring or _keyring()) if self._use_keyring else None

    @property
    def key_storage(self) -> str:
        if self._keyring is not None:
            return "the system keyring"
        return f"{self.keys_path} (readable only by you)"

    def endpoints(self) -> list[Endpoint]:
        try:
            raw = json.loads(self.list_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [Endpoint(str(e["name"]), str(e["url"])) for e in raw if isinstance(e, dict) and "url" in e
                and "name" in e] if isinstance(raw, list) else []

    def add(self, endpoint: Endpoint, api_key: str = "") -> str:
        """Add or replace (by URL) an endpoint; an empty key removes any stored one.
        Returns where the key went, as a sentence for the user."""
        from app.engine.remote import normalize_base_url

        endpoint = Endpoint(endpoint.name.strip() or endpoint.url, normalize_base_url(endpoint.url))
        kept = [e for e in self.endpoints() if e.url != endpoint.url]
        write_json_atomically(self.list_path, [asdict(e) for e in kept + [endpoint]])
        return self._set_key(endpoint.url, api_key)

    def remove(self, url: str) -> None:
        write_json_atomically(self.list_path, [asdict(e) for e in self.endpoints() if e.url != url])
        self._set_key(url, "")

    def api_key(self, url: str) -> str:
        if self._keyring is not None:
            try:
                key = self._keyring.get_password(KEYRING_SERVICE, url) or ""
            except Exception:  # noqa: BLE001 - a locked or broken keyring: the file's copy is asked next
                key = ""
            if key:
                return key
        return self._file_keys().get(url, "")  # also where a key the keyring refused is kept

    def _file_keys(self) -> dict[str, str]:
        try:
            raw = json.loads(self.keys_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def _set_key(self, url: str, api_key: str) -> str:
        """Store (or, with "", forget) a key; where it went, as a sentence."""
        private_file = f"{self.keys_path} (readable only by you)"
        if self._keyring is None:
            self._write_file_key(url, api_key)
            return f"Keys are stored in {private_file}."
        if not api_key:
            try:
                self._keyring.delete_password(KEYRING_SERVICE, url)
            except Exception:  # noqa: BLE001 - there was none (each backend says so its own way)
                pass
            self._write_file_key(url, "")
            return "Keys are stored in the system keyring."
        try:
            self._keyring.set_password(KEYRING_SERVICE, url, api_key)
        except Exception as exc:  # noqa: BLE001 - said in the answer, and the key is kept in the file
            self._write_file_key(url, api_key)
            return f"The system keyring refused the key ({type(exc).__name__}: {exc}); it is stored in {private_file}."
        self._write_file_key(url, "")  # no older copy left behind in the file
        return "The key is stored in the system keyring."

    def _write_file_key(self, url: str, api_key: str) -> None:
        keys = self._file_keys()
        if api_key:
            keys[url] = api_key
        elif url in keys:
            keys.pop(url)
        else:
            return  # nothing to forget: the file is not created for it
        self.folder.mkdir(parents=True, exist_ok=True)
        # Created 0600 before the key is written, so it is never readable by others.
        fd = os.open(self.keys_path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle)
        os.chmod(self.keys_path.with_suffix(".tmp"), 0o600)
        os.replace(self.keys_path.with_suffix(".tmp"), self.keys_path)


def remote_models(store: EndpointStore, offline: bool = False) -> list[tuple[Endpoint, list[str], str]]:
    """Each endpoint with its /v1/models ids, or an error line (offline mode lists none)."""
    from app.engine.protocol import EngineError
    from app.engine.remote import RemoteEngine

    if offline:
        return []
    found = []
    for endpoint in store.endpoints():
        try:
            with RemoteEngine(endpoint.url, store.api_key(endpoint.url), timeout=10, connect_timeout=3) as engine:
                found.append((endpoint, engine.models(), ""))
        except EngineError as exc:
            found.append((endpoint, [], exc.message))
    return found
