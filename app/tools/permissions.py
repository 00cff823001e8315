"""Which tool calls the user allowed: nothing by default, each call asked, "always" grants kept.

A call is asked about with four answers: Allow once, Always for this tool, Always for this
server, Deny. The "always" answers are kept (a JSON file in the data folder) and listed, so they
can be revoked one by one.
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

    @property
    def allows(self) -> bool:
        return self is not Decision.DENY


@dataclass(frozen=True)
class Grant:
    server: str
    tool: str = ""  # "": every tool of the server

    def describe(self) -> str:
        return f"every tool of {self.server}" if not self.tool else f"{self.tool} on {self.server}"


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
        return [Grant(str(g["server"]), str(g.get("tool", ""))) for g in items
                if isinstance(g, dict) and isinstance(g.get("server"), str)]

    def _save(self) -> None:
        if self.path is not None:
            write_json_atomically(self.path, {"grants": [{"server": g.server, "tool": g.tool} for g in self._grants]})

    def allowed(self, server: str, tool: str) -> bool:
        with self._lock:
            return any(g.server == server and g.tool in ("", tool) for g in self._grants)

    def record(self, decision: Decision, server: str, tool: str) -> None:
        """Keep an "always" answer (the others are for one call only)."""
        grant = {Decision.ALWAYS_TOOL: Grant(server, tool), Decision.ALWAYS_SERVER: Grant(server)}.get(decision)
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
