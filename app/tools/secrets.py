"""Secrets of MCP servers (API keys in `env`, `Authorization` and other such headers) kept out of mcp.json.

Hearth's own mcp.json holds `${keyring}` in place of each secret value; the value is kept in the OS
keyring (service "hearth-mcp", one entry per server, field and name) as the remote servers' API keys
are (app/remote_endpoints.py), or, without a usable keyring, in `mcp_secrets.json` beside the file,
readable only by the user. A value is a secret when its name says so (key, token, secret, password,
auth, credential, cookie). Servers are given the real values only when they start (off the GUI thread).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app import paths
from app.tools.config import ServerConfig

PLACEHOLDER = "${keyring}"
SERVICE = "hearth-mcp"
SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "auth", "credential", "cookie")


def is_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def _ref(server: str, field: str, name: str) -> str:
    return f"{server}/{field}/{name}"


class SecretStore:
    """The keyring when one is usable (or the one given), else a private file."""

    def __init__(self, folder: Path | None = None, keyring: Any = None, use_keyring: bool = True) -> None:
        from app.remote_endpoints import _keyring  # the same test of a usable keyring as the API keys'

        self.file = (folder or paths.config_dir()) / "mcp_secrets.json"
        self.keyring = (keyring or _keyring()) if use_keyring else None

    def get(self, ref: str) -> str:
        if self.keyring is not None:
            try:
                value = self.keyring.get_password(SERVICE, ref) or ""
            except Exception:  # noqa: BLE001 (a locked or broken keyring: the file's copy is asked next)
                value = ""
            if value:
                return value
        return self._file().get(ref, "")

    def set(self, ref: str, value: str) -> None:
        if self.keyring is not None:
            try:
                self.keyring.set_password(SERVICE, ref, value)
                self._write(ref, "")  # no older copy left in the file
                return
            except Exception:  # noqa: BLE001 (refused: kept in the private file instead, never dropped)
                pass
        self._write(ref, value)

    def _file(self) -> dict[str, str]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, ref: str, value: str) -> None:
        kept = self._file()
        if value:
            kept[ref] = value
        elif kept.pop(ref, None) is None:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private before the secret is written
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(kept, handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.file)


def _each(server: ServerConfig, field: str, values: dict[str, str], store: SecretStore, hide: bool) -> dict[str, str]:
    out = {}
    for name, value in values.items():
        ref = _ref(server.name, field, name)
        if hide and is_secret(name) and value and value != PLACEHOLDER:
            store.set(ref, value)
            value = PLACEHOLDER
        elif not hide and value == PLACEHOLDER:
            value = store.get(ref)
        out[name] = value
    return out


def carry_secrets(server: ServerConfig, old_name: str, store: SecretStore) -> None:
    """A server renamed from `old_name`: its kept secrets (`${keyring}` values) are stored under its new
    name too, so renaming it loses none (they are kept per server name)."""
    for field, values in (("env", server.env), ("headers", server.headers)):
        for name, value in values.items():
            if value == PLACEHOLDER:
                kept = store.get(_ref(old_name, field, name))
                if kept:
                    store.set(_ref(server.name, field, name), kept)


def hide_secrets(servers: Iterable[ServerConfig], store: SecretStore) -> list[ServerConfig]:
    """The servers as Hearth's mcp.json keeps them: each secret value stored, `${keyring}` in its place."""
    return [replace(s, env=_each(s, "env", s.env, store, True), headers=_each(s, "headers", s.headers, store, True))
            for s in servers]


def reveal_secrets(servers: Iterable[ServerConfig], store: SecretStore | None = None,
                   folder: Path | None = None) -> list[ServerConfig]:
    """The servers with their secrets filled in (a secret not found is empty: the server says what it lacks)."""
    listed = list(servers)
    if not any(PLACEHOLDER in (*s.env.values(), *s.headers.values()) for s in listed):
        return listed  # nothing to look up: the keyring is not even asked
    store = store or SecretStore(folder)
    return [replace(s, env=_each(s, "env", s.env, store, False), headers=_each(s, "headers", s.headers, store, False))
            for s in listed]
