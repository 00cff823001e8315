"""The app's MCP servers for the GUI: started off the GUI thread, their states watched, closed at quit.

The servers start when something first needs them (a chat with tools on, Settings → Tools), never
at launch: a user who has none configured starts nothing. Starting (McpHub.start waits up to 30 s
for each) runs on a thread of its own; while any server is still starting, `changed` is emitted
every STATE_POLL_MS so the settings show "starting" turn into "ready" or "failed: why".

A server that failed to start is not tried again on every send (a server that hangs would add its
start timeout to each reply): it stays failed until the user retries it (Settings → Retry), the
configuration changes, or RETRY_AFTER_S has passed. A server that stopped after it was ready (it
crashed) is started again when a chat with tools sends, as a failure to start then backs it off.
Saving servers (their secrets go to the keyring) runs off the GUI thread too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.tools import app_setup
from app.tools.config import ServerConfig
from app.tools.mcp_client import McpHub, McpTool
from app.tools.permissions import Grant, Grants
from app.tools.secrets import SecretStore, carry_secrets, reveal_secrets
from app.ui.tasks import BackgroundTasks
from app.ui.timers import timer

STATE_POLL_MS = 250
READY_WAIT_S = 40.0  # a reply waits this long at most for the servers to start
RETRY_AFTER_S = 300.0  # a server that failed to start is tried again by a send only after this long


@dataclass(frozen=True)
class ServerView:
    """One server as the settings show it."""

    name: str
    transport: str  # "stdio", "http" or "sse"
    state: str  # "off" (not started yet), "starting", "ready", "failed", "stopped" or "disabled"
    error: str = ""
    tools: list[McpTool] = field(default_factory=list)
    shadowed: dict[str, str] = field(default_factory=dict)  # its tool → the server whose tool of that name is used


class ToolService(QObject):
    changed = Signal()  # the servers, their states or their tools changed
    saved = Signal(str)  # servers were saved (set_configs): "" or why they could not be

    def __init__(self, tasks: BackgroundTasks, servers_file: Path | None = None, grants: Grants | None = None,
                 chats: app_setup.ToolChats | None = None, parent: QObject | None = None,
                 engine: object = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.engine = engine  # the window's EngineService: the settings count schemas with its model
        self.servers_file = servers_file or app_setup.servers_path()
        self.grants = grants or Grants(app_setup.grants_path())
        self.chats = chats or app_setup.ToolChats()
        self.configs, self.config_error = app_setup.read_servers(self.servers_file)
        self.secrets: SecretStore | None = None  # None: looked for (beside the file) when a secret is first needed
        self.hub: McpHub | None = None
        self._started = threading.Event()  # the hub in use has finished starting (each server ready or failed)
        self._told: set[tuple[str, float]] = set()  # failures a chat has said (server, failed_at): once each
        self._saving = 0  # saves under way (each on the pool, in order of the user's changes)
        self._save_lock = threading.Lock()  # one save at a time: the last change is the one on disk
        self._poll = timer(self, STATE_POLL_MS, self._check_states, single=False)

    # ------------------------------------------------------------ starting and stopping

    def start(self) -> None:
        """Start the configured servers (once; again after the configuration changed), and start again
        those that stopped since (a server that crashed comes back when a chat with tools sends) or that
        failed more than RETRY_AFTER_S ago. Returns at once: the servers start on a thread of their own."""
        if not self.configs or self._saving:
            return  # (a save under way starts them when it is done)
        if self.hub is not None:
            if self._started.is_set():  # (while they start, each is still to be ready or failed)
                now = time.monotonic()
                down = [name for name, state in self.hub.servers.items() if state.state == "stopped"
                        or (state.state == "failed" and now - state.failed_at >= RETRY_AFTER_S)]
                if down:
                    self._restart(self.hub, down)
            return
        hub = self.hub = McpHub(self.configs)
        secrets, folder = self.secrets, self.servers_file.parent  # (the thread holds no reference to self:
        # a QObject freed on another thread takes Qt down)

        def run() -> None:
            for state in hub.servers.values():  # the real secret values, read off the GUI thread
                state.config = reveal_secrets([state.config], secrets, folder)[0]
            hub.start()

        self._in_background(run)

    def restart(self, name: str) -> None:
        """Stop the server and start it again (File → Tools and MCP servers → Restart)."""
        if self.hub is None:
            self.start()
        elif name in self.hub.servers:
            self._restart(self.hub, [name])

    def retry(self, name: str = "") -> None:
        """Start a failed server again now (all failed ones without a name): Settings → Retry."""
        failed = [n for n, _why in self.failures() if not name or n == name]
        if failed and self.hub is not None:
            self._restart(self.hub, failed)

    def failures(self) -> list[tuple[str, str]]:
        """(server, why) for each server that failed to start."""
        hub = self.hub
        states = list(hub.servers.items()) if hub is not None else []
        return [(name, state.error) for name, state in states if state.state == "failed"]

    def untold_failures(self) -> list[tuple[str, str]]:
        """The failures no chat has said yet, now marked as said (a chat says each failure once)."""
        hub = self.hub
        if hub is None:
            return []
        found = []
        for name, state in list(hub.servers.items()):
            key = (name, state.failed_at)
            if state.state == "failed" and key not in self._told:
                self._told.add(key)
                found.append((name, state.error))
        return found

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

    def starting_servers(self) -> list[str]:
        """(Any thread) the servers still starting, while a start is under way; [] once each is ready or failed."""
        hub, started = self.hub, self._started
        if hub is None or started.is_set():
            return []
        return [name for name, state in list(hub.servers.items()) if state.state == "starting"]

    def set_configs(self, configs: list[ServerConfig], then: Callable[[str], None] | None = None,
                    renamed: dict[str, str] | None = None) -> None:
        """Use these servers and save them (their secrets in the keyring), then start them again.

        Returns at once: the list shows them now; saving runs on the pool (finding the keyring and
        writing to it may take a moment), and `saved` (and `then`) say "" or why it failed. Saves run
        one at a time in the order asked, so the file ends as the last change left it. `renamed`: new
        name → old name of servers renamed, whose kept secrets go with them."""
        self.configs, self.config_error = list(configs), ""
        self._saving += 1
        self._close_hub()
        self.changed.emit()

        lock, path, secrets = self._save_lock, self.servers_file, self.secrets  # (not self: as in start)

        def save() -> list[ServerConfig]:
            with lock:
                store = secrets or SecretStore(path.parent)
                for config in configs:
                    if config.name in (renamed or {}):
                        carry_secrets(config, (renamed or {})[config.name], store)
                return app_setup.save_servers(configs, path, store)

        def done(kept: object, problem: str = "") -> None:
            self._saving -= 1
            if isinstance(kept, list) and self.configs == configs:
                self.configs = kept  # the secrets' places in the file, not their values
            if then is not None:
                then(problem)
            if not self._saving:
                self.start()
            self.changed.emit()
            self.saved.emit(problem)

        def failed(exc: Exception) -> None:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            done(None, f"The servers could not be saved in {self.servers_file}: {why}")

        self.tasks.run(save, on_success=done, on_failure=failed)

    @property
    def saving(self) -> bool:
        """Servers are being saved (set_configs): the file and the keyring are written behind."""
        return self._saving > 0

    def remove_server(self, name: str, then: Callable[[str], None] | None = None) -> None:
        """Remove a server and forget its "always" answers, so a server added later under its name is
        asked about again (once it is saved); `then` gets "" or why it could not be saved."""
        def saved(problem: str) -> None:
            if problem:
                if then is not None:
                    then(problem)
                return
            self.tasks.run(lambda: self.grants.revoke_server(name),  # it writes a file: off the GUI thread
                           on_success=lambda _r: then("") if then is not None else None,
                           on_failure=lambda e: then(f"its grants could not be saved: {e}") if then else None)

        self.set_configs([c for c in self.configs if c.name != name], saved)

    def revoke(self, grant: Grant, then: Callable[[str], None]) -> None:
        """Forget one "always" answer; it is written off the GUI thread, then `then` gets "" or why not."""
        self.tasks.run(lambda: self.grants.revoke(grant), on_success=lambda _r: then(""),
                       on_failure=lambda e: then(f"the grant could not be revoked: {e}"))

    def add_server(self, config: ServerConfig, then: Callable[[str], None] | None = None) -> str:
        """Add a new server (Settings → Add server…) and save it as set_configs does; returns "" or, when
        its name is already used, why it was not added (nothing changed)."""
        if any(c.name == config.name for c in self.configs):
            return f"Another server is named {config.name}: give this one another name."
        self.set_configs([*self.configs, config], then)
        return ""

    def edit_server(self, old: str, config: ServerConfig, then: Callable[[str], None] | None = None) -> int:
        """Put `config` in place of the server named `old` (and save). When what the server is changed
        (its fingerprint: command, arguments, env names or URL), its "always" answers no longer cover
        it: they are revoked, so its calls are asked about again. Returns how many were revoked."""
        before = next((c for c in self.configs if c.name == old), None)
        revoked = [g for g in self.grants.list() if g.server in (old, config.name)] if before is not None and (
            before.fingerprint != config.fingerprint or before.name != config.name) else []
        if revoked:  # each revoke writes the grants file: off the GUI thread
            def revoke_all() -> None:
                for grant in revoked:
                    self.grants.revoke(grant)

            self.tasks.run(revoke_all)
        self.set_configs([config if c.name == old else c for c in self.configs], then,
                         {config.name: old} if config.name != old else None)
        return len(revoked)

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

    def offered_tools(self) -> list[McpTool]:
        """The tools a reply in a chat with tools on offers now."""
        hub = self.hub
        return hub.tools() if hub is not None else []

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
