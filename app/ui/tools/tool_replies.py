"""Replies that may call tools, for the chat page: the core's ToolLoop on a thread of its own.

The chat page's session runs on ToolReplies (an EngineService wrapping the window's one): a chat with
tools switched on has its reply written here instead of straight by the engine. The loop
(app/chat/tool_loop.py) runs off the GUI thread, blocking on the engine and on each MCP call; what
it reports crosses to the GUI thread through one queued signal. The reply's events reach the chat
session as the engine's own signals (token, reasoning, finished, failed) under this reply's job id,
so the session streams, saves and finishes it as any reply. Each call and its result are added to
the reply's parts as they happen (shown folded in its card, saved with it).

A call the user has not allowed "always" is asked about: `asked` carries a Question to the page,
which shows the approval dialog; the loop's thread waits for the answer, or for Stop.

The first reply after the servers were (re)started waits for them (a server that hangs while starting
takes its whole start timeout): `starting` names the servers it waits for, so the chat says so, and Stop
ends the wait and the reply.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from app.chat.message import ToolCallPart
from app.chat.reply import Reply
from app.chat.tool_loop import LoopResult, Outcome, ToolLoop, ToolRun
from app.chat.tool_reply import read_calls
from app.engine import protocol as p
from app.engine.jobs import new_job_id
from app.engine.protocol import ChatMessage, ErrorKind, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.tools.mcp_client import HubToolBox, McpHub
from app.tools.permissions import Decision
from app.ui.services import EngineService
from app.ui.tools.calls_view import tool_pairs
from app.ui.tools.tool_service import READY_WAIT_S, ToolService

SAY_STARTING_AFTER_S = 0.3  # a server that starts quicker than this is not mentioned


@dataclass
class Question:
    """A call waiting for the user's answer (made on the loop's thread, answered on the GUI thread)."""

    call: ToolCallPart
    server: str
    job: int
    answer: tuple[Decision, str] | None = None
    answered: threading.Event = field(default_factory=threading.Event)

    def reply(self, decision: Decision, arguments: str) -> None:
        if not self.answered.is_set():
            self.answer = (decision, arguments)
            self.answered.set()


class _NoTools:
    """A toolbox with nothing in it (no server configured, or none started)."""

    def offered(self) -> list[dict[str, Any]]:
        return []

    def server_of(self, name: str) -> str:
        return ""

    def fingerprint_of(self, server: str) -> str:
        return ""

    def run(self, name: str, arguments: dict[str, Any], timeout: float, cancel: threading.Event) -> Outcome:
        return Outcome(f"There is no tool named {name}.", True)


@dataclass(frozen=True)
class _Starting:
    """The servers a reply is waiting for ([] once it waits no more)."""

    names: tuple[str, ...]


def _joined(before: str, text: str) -> str:
    """One round's text after the earlier rounds', a blank line between (each round is a paragraph)."""
    return f"{before.rstrip()}\n\n{text.lstrip()}" if before.strip() and text.strip() else before + text


@dataclass
class _Running:
    job: int
    reply: Reply
    stop: threading.Event = field(default_factory=threading.Event)
    content: str = ""  # the text of its rounds of calls so far (the calls' markup taken out)
    offered: list[dict[str, Any]] = field(default_factory=list)
    tool_format: str = ""
    questions: list[Question] = field(default_factory=list)


# The signals a ChatSession (and the chat page's parts) hear from its engine, passed on unchanged.
FORWARDED = ("load_progress", "loaded", "load_failed", "token", "reasoning", "reading", "finished", "failed",
             "reloaded", "counted", "count_failed", "ejected")


class ToolReplies(EngineService):
    """The chat page's engine as its session sees it: the window's EngineService, except that a reply in
    a chat with tools on runs the tool loop, and counts offer that chat's tools.

    It wraps the real service (`inner`) rather than being a second one: it starts no engine, passes on
    every signal of the inner one, and hands it every other call (`__getattr__`). The session is given
    it with `use_engine`, so the chat's code does not change."""

    asked = Signal(object)  # Question: show the approval dialog
    answered = Signal(object)  # Question: its dialog may close (answered, or the reply stopped)
    calls_changed = Signal(int, object)  # a reply's message id, its (call, result) pairs so far
    starting = Signal(object)  # the names (list) of the servers a reply waits for; [] when it waits no more
    _relay = Signal(object)  # (job, what) from the loop's thread, queued to the GUI thread

    def __init__(self, service: ToolService, inner: EngineService, session: Any, parent: QObject | None = None) -> None:
        QObject.__init__(self, parent)  # not EngineService's: nothing of the engine is made twice
        self.inner = inner
        self.service = service
        self.session = session  # the ChatSession whose replies it writes (its conversation on screen)
        self.pending_new_chat = False  # tools switched on before the chat was made (its first Send makes it)
        self._running: dict[int, _Running] = {}
        self._relay.connect(self._on_relay, Qt.ConnectionType.QueuedConnection)
        for name in FORWARDED:
            getattr(inner, name).connect(getattr(self, name))

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # (not set yet)
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def info(self) -> ModelInfo | None:
        return self.inner.info

    @property
    def shown_chat(self) -> int:
        return int(self.session.chat_id)

    # ------------------------------------------------------------ which chats use tools

    def enabled(self, chat_id: int) -> bool:
        if chat_id and self.pending_new_chat and not self.service.chats.on(chat_id):
            self.pending_new_chat = False  # the chat the switch was meant for now exists
            self.service.chats.set(chat_id, True)
        return bool(chat_id) and self.service.chats.on(chat_id)

    def set_enabled(self, chat_id: int, on: bool) -> None:
        if chat_id:
            self.service.chats.set(chat_id, on)
        self.pending_new_chat = on and not chat_id
        if on:
            self.service.start()

    def offered(self) -> str:
        """The tools a reply of the chat on screen offers now (a JSON array), "" when none."""
        hub = self.service.hub
        on = self.enabled(self.shown_chat) if self.shown_chat else self.pending_new_chat
        if not on or hub is None:
            return ""
        tools = [tool.openai() for tool in hub.tools()]
        return json.dumps(tools, ensure_ascii=False) if tools else ""

    def count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
              thinking: str = "default", tools: str = "") -> int:
        """The inner count, with the schemas of the tools on offer in the chat on screen (the meter counts them)."""
        offered = tools or self.offered()
        if not offered:  # asked exactly as before (callers that stand in for the engine take no tools)
            return self.inner.count(messages, draft, overflow, max_tokens, thinking)
        return self.inner.count(messages, draft, overflow, max_tokens, thinking, tools=offered)

    # ------------------------------------------------------------ a reply

    def chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
             thinking: str = "default") -> int:
        """The session's reply (it has just begun it in the conversation on screen): through the tool loop
        in a chat with tools on, else the inner engine's reply as ever. Signals carry the returned job id."""
        conversation = self.session.conversation
        reply = conversation.reply
        if reply is None or not self.enabled(conversation.chat_id):
            return self.inner.chat(messages, sampling, overflow, thinking)
        self.service.start()
        running = _Running(new_job_id(), reply)
        running.tool_format = self.inner.info.tool_format if self.inner.info is not None else ""
        self._running[running.job] = running
        threading.Thread(target=self._work, args=(running, list(messages), sampling, overflow, thinking),
                         name="hearth-tool-reply", daemon=True).start()
        return running.job

    def _work(self, running: _Running, history: list[ChatMessage], sampling: SamplingParams,
              overflow: OverflowPolicy, thinking: str) -> None:
        job = running.job
        try:
            hub = self._wait_for_servers(running)
            if running.stop.is_set():  # stopped while the servers started: nothing was written
                self._relay.emit((job, LoopResult(stop_reason=p.StopReason.CANCELLED.value)))
                return
            toolbox: Any = HubToolBox(hub) if hub is not None else _NoTools()
            running.offered = toolbox.offered()
            loop = ToolLoop(self.inner.router, toolbox, self.service.grants, lambda call, server: self._ask(
                running, call, server), tool_format=running.tool_format, stop=running.stop,
                on_event=lambda event: self._relay.emit((job, event)),
                on_run=lambda run: self._relay.emit((job, run)))
            result = loop.reply(history, sampling, thinking, overflow)
        except Exception as exc:  # noqa: BLE001 (every reply ends with one signal, whatever went wrong)
            result = LoopResult(error=f"{type(exc).__name__}: {exc}")
        self._relay.emit((job, result))

    def _wait_for_servers(self, running: _Running) -> McpHub | None:
        """(The loop's thread) the started servers, waiting up to READY_WAIT_S for those still starting;
        after SAY_STARTING_AFTER_S the chat is told which they are. Stop ends the wait."""
        begun = time.monotonic()
        told: tuple[str, ...] = ()
        hub = self.service.ready_hub(SAY_STARTING_AFTER_S)
        while not running.stop.is_set() and time.monotonic() - begun < READY_WAIT_S:
            names = tuple(self.service.starting_servers())
            if not names:
                break
            if names != told:
                told = names
                self._relay.emit((running.job, _Starting(names)))
            hub = self.service.ready_hub(0.1)
        if told:
            self._relay.emit((running.job, _Starting(())))
        return hub

    def _ask(self, running: _Running, call: ToolCallPart, server: str) -> tuple[Decision, str]:
        """(The loop's thread) ask the user; Stop answers Deny."""
        question = Question(call, server, running.job)
        self._relay.emit((running.job, question))
        while not question.answered.wait(0.05):
            if running.stop.is_set():
                question.reply(Decision.DENY, call.arguments)
        assert question.answer is not None
        return question.answer

    def cancel(self, job_id: int = 0) -> None:
        """Stop a tool reply (its generation, its running call, its open question); other jobs go to the engine."""
        running = self._running.get(job_id)
        if running is None:
            self.inner.cancel(job_id)
            return
        running.stop.set()
        for question in running.questions:
            question.reply(Decision.DENY, question.call.arguments)
            self.answered.emit(question)

    # ------------------------------------------------------------ on the GUI thread

    def _on_relay(self, item: tuple[int, object]) -> None:
        job, what = item
        running = self._running.get(job)
        if running is None:
            return
        if isinstance(what, p.Token):
            if what.reasoning:
                self.reasoning.emit(job, what.reasoning, what.n_tokens)
            self.token.emit(job, what.text, what.n_tokens)
        elif isinstance(what, p.Reading):
            self.reading.emit(job, what.done, what.total)
        elif isinstance(what, p.Done):
            self._round_done(running, what)
        elif isinstance(what, Question):
            running.questions.append(what)
            self.asked.emit(what)
        elif isinstance(what, ToolRun):
            for question in running.questions:
                self.answered.emit(question)
            running.questions.clear()
            result = replace(what.result, seconds=round(what.seconds, 3))
            running.reply.parts += [what.call, result]
            self.calls_changed.emit(running.reply.record, tool_pairs(running.reply.parts))
            self.token.emit(job, "", running.reply.n_tokens)  # the card shows the call at once
        elif isinstance(what, _Starting):
            self.starting.emit(list(what.names))
        elif isinstance(what, LoopResult):
            self._finish(running, what)

    def _round_done(self, running: _Running, done: p.Done) -> None:
        """A round that called tools: its shown text becomes the text without the calls' markup."""
        content, calls = read_calls(done.text, running.tool_format, running.offered, parsed_calls=done.tool_calls)
        if calls:
            reply = running.reply
            reply.take_arrived()
            running.content = _joined(running.content, content)
            reply.content = running.content
            reply.unsaved = True

    def _finish(self, running: _Running, result: LoopResult) -> None:
        del self._running[running.job]
        for question in running.questions:
            self.answered.emit(question)
        if result.error:
            self.failed.emit(running.job, ErrorKind.INTERNAL, result.error)
            return
        stats = result.stats or p.Stats()
        stats = replace(stats, tool_rounds=result.rounds)
        if running.stop.is_set():
            stats = replace(stats, stop_reason=p.StopReason.CANCELLED)
        elif result.stop_reason == p.StopReason.TOOL_LIMIT.value:
            stats = replace(stats, stop_reason=p.StopReason.TOOL_LIMIT)
        text = _joined(running.content, result.text)
        self.finished.emit(running.job, p.Done(running.job, stats, text, reasoning=result.reasoning))

    def close(self) -> None:
        """Quitting: every tool reply stops."""
        for job in list(self._running):
            self.cancel(job)

