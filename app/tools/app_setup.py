"""The app's own tool settings: its mcp.json, servers imported from other apps, and which chats use tools.

The servers are kept in `mcp.json` in Hearth's config folder, in the shape Claude Desktop, LM Studio
and Cursor write, so the file can be copied either way. Importing reads another app's file and adds
its servers (a name already used gets " (2)", …); nothing is ever overwritten. Which chats have tools
switched on is a small JSON file beside it (a chat starts with tools off).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app import paths
from app.atomic_json import write_json_atomically
from app.tools.config import ConfigError, ServerConfig, load_config
from app.tools.secrets import SecretStore, hide_secrets

SERVERS_FILE = "mcp.json"
CHATS_FILE = "tool_chats.json"
GRANTS_FILE = "tool_grants.json"  # shared with `hearth chat --mcp`


def servers_path() -> Path:
    return paths.config_dir() / SERVERS_FILE


def grants_path() -> Path:
    return paths.data_dir() / GRANTS_FILE


def other_apps() -> dict[str, list[Path]]:
    """Where other apps keep their MCP servers, by app (the places each uses on Linux, macOS and Windows)."""
    home = Path.home()
    return {
        "Claude Desktop": [home / ".config/Claude/claude_desktop_config.json",
                           home / "Library/Application Support/Claude/claude_desktop_config.json",
                           home / "AppData/Roaming/Claude/claude_desktop_config.json"],
        "LM Studio": [home / ".lmstudio/mcp.json", home / ".cache/lm-studio/mcp.json"],
        "Cursor": [home / ".cursor/mcp.json"],
    }


def found_in_other_apps() -> list[tuple[str, Path]]:
    """(app, file) for each other app's MCP file that exists here."""
    return [(app, path) for app, places in other_apps().items() for path in places if path.is_file()]


def config_json(config: ServerConfig) -> dict[str, Any]:
    """One server as mcp.json writes it."""
    entry: dict[str, Any] = ({"command": config.command, "args": list(config.args)} if config.command
                             else {"url": config.url})
    if config.env:
        entry["env"] = dict(config.env)
    if config.headers:
        entry["headers"] = dict(config.headers)
    if config.disabled:
        entry["disabled"] = True
    if config.sse:
        entry["type"] = "sse"
    return entry


def read_servers(path: Path | None = None) -> tuple[list[ServerConfig], str]:
    """The app's servers and, when its file cannot be used, why (the file is then left as it is)."""
    path = path or servers_path()
    if not path.exists():
        return [], ""
    try:
        return load_config(path), ""
    except ConfigError as exc:
        return [], str(exc)


def save_servers(servers: list[ServerConfig], path: Path | None = None,
                 secrets: SecretStore | None = None) -> list[ServerConfig]:
    """Write the app's mcp.json, its secret values in the keyring (app/tools/secrets.py); returns the
    servers as written. OSError passes: the caller says what failed."""
    path = path or servers_path()
    kept = hide_secrets(servers, secrets or SecretStore(path.parent))
    write_json_atomically(path, {"mcpServers": {s.name: config_json(s) for s in kept}})
    return kept


def merge(servers: list[ServerConfig], added: list[ServerConfig]) -> tuple[list[ServerConfig], list[str]]:
    """`servers` plus `added`, each added one renamed if its name is taken; the names added."""
    merged, names = list(servers), []
    taken = {s.name for s in servers}
    for server in added:
        name, n = server.name, 2
        while name in taken:
            name, n = f"{server.name} ({n})", n + 1
        taken.add(name)
        names.append(name)
        merged.append(ServerConfig(name, server.command, server.args, server.env, server.url, server.headers,
                                   server.disabled))
    return merged, names


def import_servers(servers: list[ServerConfig], path: Path) -> tuple[list[ServerConfig], list[str]]:
    """Add the servers of another app's file; ConfigError says what is wrong with it."""
    return merge(servers, load_config(path))


class ToolChats:
    """Which chats have tools switched on (by chat id); off unless switched on."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.data_dir() / CHATS_FILE
        self._on: set[int] = self._read()

    def _read(self) -> set[int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()  # none yet, or damaged: tools are off, the user switches them on again
        chats = data.get("chats", []) if isinstance(data, dict) else []
        return {c for c in chats if isinstance(c, int)}

    def on(self, chat_id: int) -> bool:
        return chat_id in self._on

    def set(self, chat_id: int, on: bool) -> None:
        if not chat_id or self.on(chat_id) == on:
            return
        (self._on.add if on else self._on.discard)(chat_id)
        try:
            write_json_atomically(self.path, {"chats": sorted(self._on)})
        except OSError:
            pass  # kept for this run; the switch is asked again next time
