"""MCP server settings in the `mcp.json` shape Claude Desktop, LM Studio and Cursor use:

    {"mcpServers": {"name": {"command": "…", "args": […], "env": {…}},
                    "other": {"url": "https://…/mcp", "headers": {…}}}}

A server with a `command` is started over stdio; one with a `url` is reached over streamable HTTP.
Every mistake is named with the server and field, so a file copied from another app can be fixed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ServerConfig:
    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    disabled: bool = False
    sse: bool = False  # "type": "sse": the older HTTP transport (server-sent events), which Cursor's files name

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "sse" if self.sse else "http"

    @property
    def fingerprint(self) -> str:
        """What the server is, so an "always" grant given to it never covers another server that takes
        its name: the program, its arguments and the names of its environment variables (their values
        may be secrets kept in the keyring), or the URL."""
        what: dict[str, object] = ({"command": self.command, "args": list(self.args), "env": sorted(self.env)}
                                   if self.command else {"url": self.url})
        if self.sse:  # only then: a streamable HTTP server's fingerprint (and its grants) stays as it was
            what["type"] = "sse"
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()[:16]


# what mcp.json files write in "type" (Claude Desktop writes none; Cursor and VS Code name the transport)
TRANSPORT_TYPES = ("", "stdio", "http", "streamable-http", "streamableHttp", "sse")


def _strings(value: object, where: str, kind: type) -> Any:
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings")
        return tuple(value)
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"{where} must be an object of strings")
    return dict(value)


def parse_config(data: object) -> list[ServerConfig]:
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError('the file must be a JSON object with "mcpServers": {"name": {...}}')
    found = []
    for name, entry in servers.items():
        where = f'server "{name}"'
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be an object")
        command, url = entry.get("command", ""), entry.get("url", entry.get("serverUrl", ""))
        if not isinstance(command, str) or not isinstance(url, str) or bool(command) == bool(url):
            raise ConfigError(f'{where} needs either "command" (a program to start) or "url" (an HTTP address)')
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f'{where}: "url" must start with http:// or https://')
        kind = entry.get("type", "")
        if kind not in TRANSPORT_TYPES:
            raise ConfigError(f'{where}: "type" {json.dumps(kind)} is not one Hearth knows '
                              f'({", ".join(t for t in TRANSPORT_TYPES if t)})')
        found.append(ServerConfig(
            name=name, command=command, url=url,
            args=_strings(entry.get("args", []), f'{where}: "args"', list),
            env=_strings(entry.get("env", {}), f'{where}: "env"', dict),
            headers=_strings(entry.get("headers", {}), f'{where}: "headers"', dict),
            disabled=bool(entry.get("disabled", False)), sse=kind == "sse" and bool(url)))
    return found


def load_config(path: Path) -> list[ServerConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
