"""MCP servers' secrets: in the keyring (or a private file without one), `${keyring}` in Hearth's mcp.json."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from app.tools import app_setup
from app.tools.config import ServerConfig, load_config
from app.tools.secrets import PLACEHOLDER, SecretStore, reveal_secrets


class MemoryKeyring:
    def __init__(self, refuse: bool = False) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.refuse = refuse

    def get_password(self, service: str, name: str) -> str | None:
        return self.values.get((service, name))

    def set_password(self, service: str, name: str, value: str) -> None:
        if self.refuse:
            raise PermissionError("locked")
        self.values[(service, name)] = value


SERVER = ServerConfig("github", command="gh-mcp", env={"GITHUB_TOKEN": "ghp_secret", "LOG_LEVEL": "info"})
WEB = ServerConfig("web", url="https://example.test/mcp", headers={"Authorization": "Bearer s3cret", "X-Team": "a"})


def test_secrets_go_to_the_keyring_and_come_back_when_servers_start(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = SecretStore(tmp_path, keyring=keyring)
    app_setup.save_servers([SERVER, WEB], tmp_path / "mcp.json", store)
    written = (tmp_path / "mcp.json").read_text()
    assert "ghp_secret" not in written and "s3cret" not in written
    saved = json.loads(written)["mcpServers"]
    assert saved["github"]["env"] == {"GITHUB_TOKEN": PLACEHOLDER, "LOG_LEVEL": "info"}
    assert saved["web"]["headers"] == {"Authorization": PLACEHOLDER, "X-Team": "a"}
    assert keyring.values[("hearth-mcp", "github/env/GITHUB_TOKEN")] == "ghp_secret"
    assert reveal_secrets(load_config(tmp_path / "mcp.json"), store) == [SERVER, WEB]
    # saved again (another server added): the placeholders stay placeholders, the secrets stay put
    app_setup.save_servers(load_config(tmp_path / "mcp.json"), tmp_path / "mcp.json", store)
    assert reveal_secrets(load_config(tmp_path / "mcp.json"), store) == [SERVER, WEB]
    assert not (tmp_path / "mcp_secrets.json").exists()


def test_without_a_keyring_or_when_it_refuses_they_go_to_a_private_file(tmp_path: Path) -> None:
    for store in (SecretStore(tmp_path, use_keyring=False), SecretStore(tmp_path, keyring=MemoryKeyring(refuse=True))):
        app_setup.save_servers([SERVER], tmp_path / "mcp.json", store)
        assert "ghp_secret" not in (tmp_path / "mcp.json").read_text()
        assert stat.S_IMODE((tmp_path / "mcp_secrets.json").stat().st_mode) == 0o600
        assert reveal_secrets(load_config(tmp_path / "mcp.json"), store) == [SERVER]


def test_a_file_without_placeholders_never_asks_the_keyring() -> None:
    assert reveal_secrets([SERVER], store=None) == [SERVER]  # (a store would be made only to look one up)
