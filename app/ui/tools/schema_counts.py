"""Exact token counts of tool schemas for Settings → Tools, with the loaded model's tokenizer.

The numbers come from the engine's count job, as the chat's context meter gets them (off the GUI
thread; `counted` brings each answer back): the same one-message prompt is counted with and without
tools, so each number is what that tool adds to every prompt of a chat with tools on, as the
model's chat template writes it. A tool's own number is what the prompt loses without it (what it
would add, for a tool not offered because another server's tool has its name); the total is every
offered tool together with the template's instructions around them.

Without a loaded model (or with a remote server that can only estimate), `exact` is None and the
settings fall back to an estimate (a JSON schema runs about 3.5 characters a token).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.engine.protocol import ChatMessage, CountResult, OverflowPolicy
from app.tools.mcp_client import McpTool

PROBE = (ChatMessage("user", "Hello"),)  # the prompt every count shares: only the tools differ


def estimate(tool: McpTool) -> int:
    """About how many tokens the tool's schema takes (no model to count with)."""
    return max(1, round(len(json.dumps(tool.openai(), ensure_ascii=False)) / 3.5))


def _tools_json(tools: list[McpTool]) -> str:
    return json.dumps([t.openai() for t in tools], ensure_ascii=False) if tools else ""


class SchemaCounts(QObject):
    """The loaded model's counts of the tools on offer; `changed` when they arrive or go (a model was
    loaded or ejected)."""

    changed = Signal()

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine  # the window's EngineService; None: never exact
        self._key: tuple[str, str] | None = None  # (model, tools) the counts below are for
        self._jobs: dict[int, str] = {}  # count job → what it counts ("none", "all", or a tool's key)
        self._results: dict[str, int] = {}
        self._tools: tuple[list[McpTool], list[McpTool]] = ([], [])
        self.tools: dict[tuple[str, str], int] = {}  # (server, tool) → exact tokens
        self.total: int | None = None  # every offered tool with the template's instructions
        if engine is not None:
            engine.counted.connect(self._counted)
            engine.count_failed.connect(self._failed)
            for signal in (engine.loaded, engine.ejected, engine.reloaded):
                signal.connect(self._model_changed)  # (a method: let go of when this object is)

    def exact(self, tool: McpTool) -> int | None:
        return self.tools.get((tool.server, tool.name))

    def update(self, offered: list[McpTool], every: list[McpTool]) -> None:
        """Count these tools (offered: what a reply offers; every: each ready server's, offered or not)
        unless they are counted already for the model in use."""
        self._tools = (list(offered), list(every))
        info = self.engine.info if self.engine is not None else None
        key = (f"{info.path}|{info.chat_template}" if info is not None else "",
               json.dumps([[t.server, t.openai()] for t in every]) + _tools_json(offered))
        if key == self._key:
            return
        self._key, self._jobs, self._results = key, {}, {}
        had = bool(self.tools) or self.total is not None
        self.tools, self.total = {}, None
        if info is not None and every:
            self._ask("none", [])
            self._ask("all", offered)
            for tool in every:
                others = ([t for t in offered if t != tool] if tool in offered else [*offered, tool])
                self._ask(json.dumps([tool.server, tool.name]), others)
        if had:
            self.changed.emit()

    def _ask(self, what: str, tools: list[McpTool]) -> None:
        job = self.engine.count(PROBE, "", OverflowPolicy.TRUNCATE_MIDDLE, 0, tools=_tools_json(tools))
        self._jobs[job] = what

    def _model_changed(self, *_: object) -> None:
        self._key = None
        self.update(*self._tools)

    def _counted(self, job: int, result: CountResult) -> None:
        what = self._jobs.pop(job, None)
        if what is None:
            return
        if result.estimated:  # a server that cannot count: its guesses are no better than ours
            self._jobs.clear()
            return
        self._results[what] = result.untrimmed_tokens
        if not self._jobs:
            self._settle()

    def _failed(self, job: int, _message: str) -> None:
        if self._jobs.pop(job, None) is not None:
            self._jobs.clear()  # the estimates stay (a model that cannot render tools, an engine gone)

    def _settle(self) -> None:
        """All answers are in: each tool's tokens and the total."""
        results, offered = self._results, self._tools[0]
        if "all" not in results or "none" not in results:
            return
        for key, count in results.items():
            if key in ("all", "none"):
                continue
            server, name = json.loads(key)
            mine = next((t for t in self._tools[1] if (t.server, t.name) == (server, name)), None)
            in_offer = mine is not None and mine in offered
            self.tools[(server, name)] = max(0, results["all"] - count if in_offer else count - results["all"])
        self.total = max(0, results["all"] - results["none"])
        self.changed.emit()
