"""The app's MCP servers for the GUI: started off the GUI thread, their states watched, closed at quit.

The servers start when something first needs them (a chat with tools on, Settings → Tools), never
at launch: a user who has none configured starts nothing. Starting (McpHub.start waits up to 30 s
for each) runs on a thread of its own; while any server is still starting, `changed` is emitted
every STATE_POLL_MS so the settings show "starting" turn into "ready" or "failed: why".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.tools import app_setup
from app.tools.config import ServerConfig
from app.tools.mcp_client import McpHub, McpTool
from app.tools.permissions import Grants
from app.tools.secrets import SecretStore, reveal_secrets
from app.ui.tasks import BackgroundTasks
from app.ui.timers import timer

STATE_POLL_MS = 250
READY_WAIT_S = 40.0  # a reply waits this long at most for the servers to start


@dataclass(frozen=True)
class ServerView:
    """One server as the settings show it."""

    name: str
    transport: str  # "stdio" or "http"
    state: str  # "off" (not started yet), "starting", "ready", "failed", "stopped" or "disabled"
    error: str = ""
    tools: list[McpTool] = field(default_factory=list)
    shadowed: dict[str, str] = field(default_factory=dict)  # its tool → the server whose tool of that name is used


class ToolService(QObject):
    changed = Signal()  # the servers, their states or their tools changed

    def __init__(self, tasks: BackgroundTasks, servers_file: Path | None = None, grants: Grants | None = None,
                 chats: app_setup.ToolChats | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.servers_file = servers_file or app_setup.servers_path()
        self.grants = grants or Grants(app_setup.grants_path())
        self.chats = chats or app_setup.ToolChats()
        self.configs, self.config_error = app_setup.read_servers(self.servers_file)
        self.secrets: SecretStore | None = None  # None: looked for (beside the file) when a secret is first needed
        self.hub: McpHub | None = None
        self._started = threading.Event()  # the hub in use has finished starting (each server ready or failed)
        self._poll = timer(self, STATE_POLL_MS, self._check_states, single=False)

    # ------------------------------------------------------------ starting and stopping

    def start(self) -> None:
        """Start the configured servers (once; again after the configuration changed), and start again
        those that failed or stopped since (a server that crashed comes back when a chat with tools sends)."""
        if not self.configs:
            return
        if self.hub is not None:
            if self._started.is_set():  # (while they start, each is still to be ready or failed)
                down = [name for name, state in self.hub.servers.items() if state.state in ("failed", "stopped")]
                if down:
                    self._restart(self.hub, down)
            return
        hub = self.hub = McpHub(self.configs)

        def run() -> None:
            for state in hub.servers.values():  # the real secret values, read off the GUI thread
                state.config = reveal_secrets([state.config], self.secrets, self.servers_file.parent)[0]
            hub.start()

        self._in_background(run)

    def restart(self, name: str) -> None:
        """Stop the server and start it again (File → Tools and MCP servers → Restart)."""
        if self.hub is None:
            self.start()
        elif name in self.hub.servers:
            self._restart(self.hub, [name])

    def _restart(self, hub: McpHub, names: list[str]) -> None:
        for name in names:  # shown as starting at once; each is started again behind
            hub.servers[name].state, hub.servers[name].error = "starting", ""
        def run() -> None:
            for name in names:
                hub.restart(name)

        self._in_background(run)

    def _in_background(self, work: Callable[[], object]) -> None:
        """Start or restart servers on a thread of its own (not the pool: quitting never waits for a server
        that is slow to start); a reply waits for it (ready_hub) and the settings follow it."""
        started = self._started = threading.Event()

        def run() -> None:
            try:
                work()
            finally:
                started.set()

        threading.Thread(target=run, name="hearth-mcp-start", daemon=True).start()
        self._poll.start()
        self.changed.emit()

    def _check_states(self) -> None:
        self.changed.emit()
        if self._started.is_set():
            self._poll.stop()

    def ready_hub(self, timeout: float = READY_WAIT_S) -> McpHub | None:
        """(Any thread but the GUI's) the started servers, waiting for them to start; None without any."""
        hub, started = self.hub, self._started
        if hub is None:
            return None
        started.wait(timeout)
        return hub

    def set_configs(self, configs: list[ServerConfig]) -> str:
        """Save new servers (their secrets in the keyring) and start them again; "" or why they could not be saved.

        Called on the GUI thread after the user chose to add or remove servers: finding the keyring may
        take a moment then, never at launch."""
        try:
            configs = app_setup.save_servers(configs, self.servers_file, self.secrets)
        except OSError as exc:
            return f"The servers could not be saved in {self.servers_file}: {exc.strerror or exc}"
        self.configs, self.config_error = configs, ""
        self._close_hub()
        self.start()
        self.changed.emit()
        return ""

    def remove_server(self, name: str) -> str:
        """Remove a server and forget its "always" answers, so a server added later under its name is
        asked about again; "" or why it could not be saved."""
        problem = self.set_configs([c for c in self.configs if c.name != name])
        if not problem:
            self.grants.revoke_server(name)
        return problem

    def _close_hub(self) -> None:
        hub, self.hub = self.hub, None
        if hub is not None:  # stopping a server may take a moment: never on the GUI thread
            threading.Thread(target=hub.close, name="hearth-mcp-close", daemon=True).start()

    def close(self, seconds: float = 0.5) -> None:
        """Quitting: the servers are told to stop; waits at most `seconds`."""
        hub, self.hub = self.hub, None
        if hub is not None:
            closer = threading.Thread(target=hub.close, name="hearth-mcp-close", daemon=True)
            closer.start()
            closer.join(seconds)

    # ------------------------------------------------------------ what the settings show

    def views(self) -> list[ServerView]:
        hub = self.hub
        clashes = hub.shadowed() if hub is not None else {}
        shown = []
        for config in self.configs:
            state = hub.servers.get(config.name) if hub is not None else None
            if config.disabled:
                shown.append(ServerView(config.name, config.transport, "disabled"))
            elif state is None:
                shown.append(ServerView(config.name, config.transport, "off"))
            else:
                tools = list(state.tools) if state.state == "ready" else []
                shadowed = {tool: other for (server, tool), other in clashes.items() if server == config.name}
                shown.append(ServerView(config.name, config.transport, state.state, state.error, tools, shadowed))
        return shown
