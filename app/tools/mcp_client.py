"""MCP servers through the official `mcp` SDK, behind a plain blocking API for the CLI, the app and
the tool loop (call it from any thread but the GUI's).

One asyncio loop on a daemon thread holds every server's session: a stdio server is a child
process, an HTTP one a streamable HTTP connection. Each server's session lives in its own task
(the SDK's contexts must be left in the task that entered them), which waits for `close()`.
A server that fails to start, or stops, is reported in its state; its calls answer a plain sentence.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import tempfile
import threading
import time
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from app.tools.config import ServerConfig

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class McpTool:
    server: str
    name: str
    description: str
    schema: dict[str, Any]

    def openai(self) -> dict[str, Any]:
        """The tool as a chat template and OpenAI's API take it."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.schema or {"type": "object", "properties": {}}}}


@dataclass(frozen=True)
class ToolResult:
    text: str
    is_error: bool = False
    seconds: float = 0.0


@dataclass
class ServerState:
    config: ServerConfig
    state: str = "starting"  # "starting", "ready", "failed" or "stopped"
    error: str = ""
    tools: list[McpTool] = field(default_factory=list)
    session: Any = None
    failed_at: float = 0.0  # time.monotonic() when it failed (a retry waits a while after it)
    ready: threading.Event = field(default_factory=threading.Event)
    quit: asyncio.Event = field(default_factory=asyncio.Event)  # set (in the hub's loop): this server stops
    ended: threading.Event = field(default_factory=threading.Event)  # its session is over (stopped or failed)
    task: Any = None  # the concurrent Future of its run on the hub's loop (cancelled when it hangs at close)


def _reason(exc: BaseException) -> str:
    """The first real error inside the SDK's exception groups, in words."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "it did not answer in time"
    return str(exc) or type(exc).__name__


def _fail(state: ServerState, why: str) -> None:
    state.state, state.error, state.failed_at = "failed", why, time.monotonic()


def _last_words(errlog: Any) -> str:
    """The last line a stdio server wrote on its stderr (why it ended, as often as not), "" if none."""
    if errlog is None:
        return ""
    try:
        errlog.flush()
        errlog.seek(0)
        lines = [line.strip() for line in errlog.read()[-4000:].splitlines() if line.strip()]
    except (OSError, ValueError):
        return ""
    return lines[-1][:200] if lines else ""


def _start_failure(config: ServerConfig, exc: BaseException, errlog: Any) -> str:
    """Why a server did not start, in one sentence a user can act on."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError) and config.command:
        return f"there is no program {config.command}"
    if isinstance(exc, PermissionError) and config.command:
        return f"{config.command} cannot be run (permission denied)"
    said = _last_words(errlog)
    if config.command and _connection_lost(exc):  # its program's name: the settings show the whole command
        program = os.path.basename(config.command) or config.command
        return f"{program} ended before it answered" + (f" (it said: {said})" if said else "")
    return _reason(exc) + (f" (it said: {said})" if said else "")


def _connection_lost(exc: BaseException) -> bool:
    """Whether a call failed because the server is gone (its process ended, its connection closed),
    not because of the call: the SDK's "Connection closed" error, or anyio's closed streams."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    import anyio
    from mcp.types import CONNECTION_CLOSED

    code = getattr(getattr(exc, "error", None), "code", None)
    return code == CONNECTION_CLOSED or isinstance(
        exc, (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream))


def _result_text(result: Any) -> str:
    pieces = []
    for block in getattr(result, "content", []) or []:
        text = getattr(block, "text", None)
        pieces.append(text if isinstance(text, str) else f"[{getattr(block, 'type', 'content')}]")
    if not pieces and getattr(result, "structuredContent", None) is not None:
        import json

        pieces.append(json.dumps(result.structuredContent, ensure_ascii=False))
    return "\n".join(pieces)


async def _open_http(stack: AsyncExitStack, config: ServerConfig) -> tuple[Any, Any]:
    """A streamable HTTP connection: the SDK's current client where it has one (1.2x), else the older one;
    or the older SSE transport for a server whose file says "type": "sse"."""
    from mcp.client import streamable_http

    headers = dict(config.headers) or None
    if config.sse:
        from mcp.client.sse import sse_client

        read, write = await stack.enter_async_context(sse_client(config.url, headers))
        return read, write
    if hasattr(streamable_http, "streamable_http_client"):
        from mcp.shared._httpx_utils import create_mcp_http_client

        client = await stack.enter_async_context(create_mcp_http_client(headers=headers))
        read, write, _ = await stack.enter_async_context(
            streamable_http.streamable_http_client(config.url, http_client=client))
    else:
        read, write, _ = await stack.enter_async_context(streamable_http.streamablehttp_client(config.url, headers))
    return read, write


async def _either(*events: asyncio.Event) -> None:
    """Wait until one of the events is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class McpHub:
    """The configured servers, started together; `tools()` are what the model is offered."""

    def __init__(self, configs: list[ServerConfig], start_timeout: float = START_TIMEOUT_S) -> None:
        self.servers = {c.name: ServerState(c) for c in configs if not c.disabled}
        self.start_timeout = start_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hearth-mcp", daemon=True)
        self._closing: asyncio.Event | None = None
        self._tasks: list[Future[None]] = []

    def start(self) -> McpHub:
        """Start every server and wait (up to the start timeout) until each is ready or failed."""
        self._thread.start()
        self._closing = asyncio.run_coroutine_threadsafe(self._make_event(), self._loop).result()
        for state in self.servers.values():
            state.task = asyncio.run_coroutine_threadsafe(self._run(state), self._loop)
            self._tasks.append(state.task)
        deadline = time.monotonic() + self.start_timeout
        for state in self.servers.values():
            if not state.ready.wait(max(0.0, deadline - time.monotonic())):
                _fail(state, f"it did not start within {self.start_timeout:g} s")
        return self

    async def _make_event(self) -> asyncio.Event:
        return asyncio.Event()

    async def _run(self, state: ServerState) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        config = state.config
        # a stdio server's stderr, kept (in a file: the child process writes it) to say why it failed
        errlog: Any = (tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
                       if config.command else None)
        try:
            async with AsyncExitStack() as stack:
                if config.command:
                    params = StdioServerParameters(command=config.command, args=list(config.args),
                                                   env=dict(config.env) or None)
                    read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                else:
                    read, write = await _open_http(stack, config)
                session = await stack.enter_async_context(ClientSession(read, write))
                await asyncio.wait_for(session.initialize(), self.start_timeout)
                listed = await asyncio.wait_for(session.list_tools(), self.start_timeout)
                state.tools = [McpTool(config.name, t.name, t.description or "", dict(t.inputSchema or {}))
                               for t in listed.tools]
                state.session, state.state = session, "ready"
                state.ready.set()
                assert self._closing is not None
                await _either(self._closing, state.quit)
        except BaseException as exc:  # a server's failure is its state, never the app's
            if state.state == "ready":
                state.state, state.error = "stopped", _reason(exc)
            elif state.state != "stopped":  # (a call already found it gone and said why)
                _fail(state, _start_failure(config, exc, errlog))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            if errlog is not None:
                errlog.close()
            state.session = None
            if state.state == "ready":
                state.state = "stopped"
            state.ready.set()
            state.ended.set()

    def restart(self, name: str) -> None:
        """Stop the server if it runs and start it again, waiting (up to the start timeout) until it is
        ready or failed; call from any thread but the GUI's. Its state is a new one, so nothing the old
        session does as it ends can touch it."""
        old = self.servers.get(name)
        if old is None or self._closing is None or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(old.quit.set)
        old.ended.wait(self.start_timeout)
        state = self.servers[name] = ServerState(old.config)
        state.task = asyncio.run_coroutine_threadsafe(self._run(state), self._loop)
        self._tasks.append(state.task)
        if not state.ready.wait(self.start_timeout):
            _fail(state, f"it did not start within {self.start_timeout:g} s")

    # ------------------------------------------------------------ what callers use

    def tools(self) -> list[McpTool]:
        """Every ready server's tools; a name two servers share goes to the first."""
        seen: dict[str, McpTool] = {}
        for state in self.servers.values():
            for tool in state.tools if state.state == "ready" else []:
                seen.setdefault(tool.name, tool)
        return list(seen.values())

    def shadowed(self) -> dict[tuple[str, str], str]:
        """(server, tool) → the server whose tool of that name is offered instead (an earlier one in the
        file): a clash the settings and the CLI name, so a tool that never runs is not a mystery."""
        offered = {tool.name: tool.server for tool in self.tools()}
        return {(state.config.name, tool.name): offered[tool.name]
                for state in self.servers.values() if state.state == "ready"
                for tool in state.tools if offered.get(tool.name, state.config.name) != state.config.name}

    def find(self, name: str) -> McpTool | None:
        return next((t for t in self.tools() if t.name == name), None)

    def call(self, tool: McpTool, arguments: dict[str, Any], timeout: float = CALL_TIMEOUT_S,
             cancel: threading.Event | None = None) -> ToolResult:
        """Run one call; a timeout, a stopped server or Stop give a plain sentence as an error result."""
        state = self.servers.get(tool.server)
        started = time.monotonic()

        def done(text: str, is_error: bool = True) -> ToolResult:
            return ToolResult(text, is_error, time.monotonic() - started)

        session = state.session if state is not None else None
        if state is None or session is None or state.state != "ready":
            why = f": {state.error}" if state is not None and state.error else ""
            return done(f"The tool server {tool.server} is not running{why}.")
        # The deadline and Stop are kept here, on the caller's side: the call is left (cancelled in the
        # loop) at once, whatever the SDK or the server does about it.
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(tool.name, arguments, read_timeout_seconds=datetime.timedelta(seconds=timeout + 5)),
            self._loop)
        deadline = started + timeout
        while True:
            try:
                result = future.result(0.05)
                break
            except FutureTimeout:
                if cancel is not None and cancel.is_set():
                    future.cancel()
                    return done(f"Stopped: {tool.name} was cancelled before it answered.")
                if time.monotonic() > deadline:
                    future.cancel()
                    return done(f"{tool.name} did not answer within {timeout:g} s.")
            except BaseException as exc:  # noqa: BLE001 (a crashed server, a broken connection)
                if not _connection_lost(exc):
                    return done(f"{tool.name} on {tool.server} failed: {_reason(exc)}.")
                if state.session is session:
                    # its session is over: say so in its state and end it, so it can be restarted
                    state.state, state.error = "stopped", _reason(exc)
                    self._loop.call_soon_threadsafe(state.quit.set)
                return done(f"The MCP server {tool.server} stopped while it ran {tool.name}.")
        return done(_result_text(result), bool(getattr(result, "isError", False)))

    def close(self) -> None:
        if self._closing is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._closing.set)
            for state in list(self.servers.values()):
                if state.state == "starting" and state.task is not None:
                    # (one that hangs while starting heeds nothing else: cancelled, its process is ended)
                    state.task.cancel()
                    state.ended.wait(5)
            for task in self._tasks:
                try:
                    task.result(10)
                except (Exception, CancelledError):  # noqa: BLE001 (closing: a server that fails to stop is left behind)
                    pass
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> McpHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class HubToolBox:
    """An McpHub as the tool loop's ToolBox (app/chat/tool_loop.py)."""

    def __init__(self, hub: McpHub) -> None:
        self.hub = hub

    def offered(self) -> list[dict[str, Any]]:
        return [tool.openai() for tool in self.hub.tools()]

    def server_of(self, name: str) -> str:
        tool = self.hub.find(name)
        return tool.server if tool is not None else ""

    def fingerprint_of(self, server: str) -> str:
        state = self.hub.servers.get(server)
        return state.config.fingerprint if state is not None else ""

    def run(self, name: str, arguments: dict[str, Any], timeout: float, cancel: threading.Event) -> Any:
        from app.chat.tool_loop import Outcome

        tool = self.hub.find(name)
        if tool is None:
            return Outcome(f"There is no tool named {name}.", True)
        result = self.hub.call(tool, arguments, timeout, cancel)
        return Outcome(result.text, result.is_error, result.seconds)
