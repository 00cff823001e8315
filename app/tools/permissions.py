"""Which tool calls the user allowed: nothing by default, each call asked, "always" grants kept.

A call is asked about with four answers: Allow once, Always for this tool, Always for this
server, Deny. The "always" answers are kept (a JSON file in the data folder) and listed, so they
can be revoked one by one.

A grant is for a server's name *and* what that server is (ServerConfig.fingerprint: its program,
arguments and environment names, or its URL): a different server given the same name, in another
mcp.json or after the first was removed, is asked about again. Grants kept before fingerprints
(no "fingerprint" in the file) still load and are listed, but cover nothing until given again.
"""

from __future__ import annotations

import enum
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from app.atomic_json import write_json_atomically


class Decision(str, enum.Enum):
    ONCE = "once"
    ALWAYS_TOOL = "always_tool"
    ALWAYS_SERVER = "always_server"
    DENY = "deny"
    UNASKED = "unasked"  # nobody could be asked (`hearth chat` without a terminal or --allow-tools)

    @property
    def allows(self) -> bool:
        return self not in (Decision.DENY, Decision.UNASKED)


@dataclass(frozen=True)
class Grant:
    server: str
    tool: str = ""  # "": every tool of the server
    fingerprint: str = ""  # what the server was when allowed; "": kept by an older version, covers nothing

    def describe(self) -> str:
        what = f"every tool of {self.server}" if not self.tool else f"{self.tool} on {self.server}"
        return what if self.fingerprint else f"{what} (from an older version: asked again)"

    def covers(self, server: str, tool: str, fingerprint: str) -> bool:
        return (bool(fingerprint) and self.fingerprint == fingerprint and self.server == server
                and self.tool in ("", tool))


class Grants:
    """The kept "always" answers; `path` None keeps them for this run only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._grants: list[Grant] = self._read()

    def _read(self) -> list[Grant]:
        if self.path is None or not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []  # a damaged file allows nothing: the user is asked again
        items = data.get("grants", []) if isinstance(data, dict) else []
        if not isinstance(items, list):
            return []
        return [Grant(str(g["server"]), str(g.get("tool", "")), str(g.get("fingerprint", "")))
                for g in items if isinstance(g, dict) and isinstance(g.get("server"), str)]

    def _save(self) -> None:
        if self.path is not None:
            write_json_atomically(self.path, {"grants": [
                {"server": g.server, "tool": g.tool, "fingerprint": g.fingerprint} for g in self._grants]})

    def allowed(self, server: str, tool: str, fingerprint: str) -> bool:
        """Whether an "always" answer covers this tool of this very server (same name, same fingerprint)."""
        with self._lock:
            return any(g.covers(server, tool, fingerprint) for g in self._grants)

    def record(self, decision: Decision, server: str, tool: str, fingerprint: str) -> None:
        """Keep an "always" answer (the others are for one call only)."""
        grant = {Decision.ALWAYS_TOOL: Grant(server, tool, fingerprint),
                 Decision.ALWAYS_SERVER: Grant(server, "", fingerprint)}.get(decision)
        with self._lock:
            if grant is not None and grant not in self._grants:
                self._grants.append(grant)
                self._save()

    def list(self) -> list[Grant]:
        with self._lock:
            return list(self._grants)

    def revoke(self, grant: Grant) -> None:
        with self._lock:
            self._grants = [g for g in self._grants if g != grant]
            self._save()

    def revoke_server(self, server: str) -> None:
        """Forget every grant given to servers of this name (the server was removed)."""
        with self._lock:
            kept = [g for g in self._grants if g.server != server]
            if len(kept) != len(self._grants):
                self._grants = kept
                self._save()
