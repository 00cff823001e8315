"""`hearth chat --mcp servers.json`: a reply that may call MCP tools, each call asked about first.

On a terminal each call the grants do not cover is asked about (Allow once / Always for this
tool / Always for this server / Edit the arguments / Deny). Without a terminal every call is
refused unless `--allow-tools` is given. Calls and results are shown on stderr as they happen;
`--json` adds `tool_calls`, a list of {"name", "arguments", "result"} in call order.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from app.chat.message import ToolCallPart
from app.cli.common import CliError
from app.tools.permissions import Decision, Grants

ANSWERS = {"o": Decision.ONCE, "t": Decision.ALWAYS_TOOL, "s": Decision.ALWAYS_SERVER, "d": Decision.DENY}


def add_tool_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mcp", metavar="FILE", help="MCP servers the model may call, as mcp.json "
                        '({"mcpServers": {...}}, the file Claude Desktop, LM Studio and Cursor use)')
    parser.add_argument("--allow-tools", action="store_true",
                        help="run every tool call without asking (without a terminal, calls are refused otherwise)")
    parser.add_argument("--max-tool-rounds", type=int, default=8, metavar="N",
                        help="rounds of tool calls in one reply before it stops (default 8)")


class TerminalAsk:
    """Asks about each call on the terminal, or answers for the user without one."""

    def __init__(self, allow_all: bool, stdin: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.allow_all = allow_all
        self.stdin, self.stderr = stdin or sys.stdin, stderr or sys.stderr

    def __call__(self, call: ToolCallPart, server: str) -> tuple[Decision, str]:
        if self.allow_all:
            return Decision.ONCE, call.arguments
        if not self.stdin.isatty():
            self.stderr.write(f"hearth: refused {call.name} on {server}: there is no terminal to ask "
                              "(pass --allow-tools to allow tool calls)\n")
            return Decision.UNASKED, call.arguments
        arguments = call.arguments
        while True:
            self.stderr.write(f"\nThe model wants to call {call.name} on {server} with {arguments}\n"
                              "[o] allow once  [t] always this tool  [s] always this server  "
                              "[e] edit the arguments  [d] deny: ")
            self.stderr.flush()
            line = self.stdin.readline()
            if not line:  # the terminal closed: nobody allowed it
                return Decision.DENY, call.arguments
            answer = line.strip().lower()[:1]
            if answer == "e":
                arguments = self._edit(arguments)
            elif answer in ANSWERS:
                return ANSWERS[answer], arguments


    def _edit(self, arguments: str) -> str:
        """New arguments typed on the terminal: asked again until they are a JSON object (empty keeps them)."""
        while True:
            self.stderr.write("arguments (a JSON object; empty keeps them): ")
            self.stderr.flush()
            typed = self.stdin.readline().strip()
            if not typed:
                return arguments
            try:
                if isinstance(json.loads(typed), dict):
                    return typed
                self.stderr.write("that is not a JSON object\n")
            except json.JSONDecodeError as exc:
                self.stderr.write(f"that is not valid JSON: {exc}\n")


def run_tool_chat(args: argparse.Namespace, engine: Any, info: Any, history: list[Any], sampling: Any) -> int:
    from app.chat.tool_loop import ToolLoop, ToolRun
    from app.cli.reply_printer import ReplyPrinter
    from app.tools.config import ConfigError, load_config
    from app.tools.mcp_client import HubToolBox, McpHub
    from app.tools.secrets import reveal_secrets

    if args.max_tool_rounds < 0:
        raise CliError("--max-tool-rounds must be 0 or more")
    try:
        servers = reveal_secrets(load_config(Path(args.mcp)))  # Hearth's own mcp.json keeps them in the keyring
    except ConfigError as exc:
        raise CliError(str(exc)) from None

    def shown(run: ToolRun) -> None:
        mark = "error" if run.result.is_error else f"{run.seconds:.1f} s"
        sys.stderr.write(f"[tool] {run.call.name} {run.call.arguments} → {run.result.content[:200]} ({mark})\n")

    with McpHub(servers) as hub:
        for state in hub.servers.values():
            if state.state != "ready":
                sys.stderr.write(f"hearth: the MCP server {state.config.name} is not available: {state.error}\n")
        for (server, tool), other in hub.shadowed().items():
            sys.stderr.write(f"hearth: the tool {tool} of {server} is not offered: {other} has a tool of this name\n")
        loop = ToolLoop(engine, HubToolBox(hub), _grants(Path(args.mcp)),
                        TerminalAsk(args.allow_tools), max_rounds=args.max_tool_rounds,
                        tool_format=getattr(info, "tool_format", ""), on_run=shown)
        result = loop.reply(history, sampling, thinking=args.thinking)
    if result.error:
        raise CliError(result.error)
    if args.json:
        print(json.dumps({
            "reply": result.text, "reasoning": result.reasoning, "stop_reason": result.stop_reason,
            "tool_calls": [{"name": r.call.name, "arguments": _json_or_text(r.call.arguments),
                            "result": r.result.content} for r in result.runs],
            "n_ctx": info.n_ctx, "chat_template": info.chat_template,
        }, ensure_ascii=False))
    else:
        printer = ReplyPrinter(sys.stdout, color=sys.stdout.isatty())
        printer.write(result.reasoning, result.text)
        printer.finish()
    return 0


def _grants(servers_file: Path) -> Grants:
    """The app's "always" answers only for the app's own servers (its mcp.json); any other file's
    servers are asked about afresh, their "always" answers kept for this run only."""
    from app.tools import app_setup

    try:
        own = servers_file.resolve() == app_setup.servers_path().resolve()
    except OSError:
        own = False
    return Grants(app_setup.grants_path() if own else None)


def _json_or_text(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        return arguments
