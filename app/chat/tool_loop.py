"""One reply that may call tools: call → permission → run (with a timeout) → result → the model goes on.

The model is given the offered tools through its template; each reply is read for calls
(engine/tool_calls.py, as llama-server reads them). Every call is asked about unless an "always"
grant covers it; a denied, failed or timed-out call still answers, with a plain sentence, so the
model can go on. After `max_rounds` rounds of calls, a reply that calls again is not run: the
loop stops with stop reason `tool_limit` and says so.

The messages the loop adds (the assistant's calls, the tools' results, the final answer) are
returned as `Message`s made of parts, ready to show, store or export.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.chat.message import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from app.chat.tool_reply import read_calls
from app.engine import protocol as p
from app.engine.jobs import ReplyEvent
from app.engine.protocol import ChatMessage, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.tools.permissions import Decision, Grants

MAX_ROUNDS = 8
CALL_TIMEOUT_S = 60.0
TOOL_LIMIT = p.StopReason.TOOL_LIMIT.value


@dataclass(frozen=True)
class Outcome:
    text: str
    is_error: bool = False
    seconds: float = 0.0


class ToolBox(Protocol):
    """The tools on offer (an McpHub adapter in app/tools, or anything else that runs them)."""

    def offered(self) -> list[dict[str, Any]]: ...

    def server_of(self, name: str) -> str: ...

    def fingerprint_of(self, server: str) -> str:
        """What the server is (ServerConfig.fingerprint), so grants never pass to another of its name."""
        ...

    def run(self, name: str, arguments: dict[str, Any], timeout: float, cancel: threading.Event) -> Outcome: ...


class ChatEngine(Protocol):
    def chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams | None = ...,
             overflow: OverflowPolicy = ..., thinking: str = ..., stop: threading.Event | None = ...,
             tools: str = ...) -> Iterator[ReplyEvent]: ...


# Asked about a call the grants do not cover: the answer and the arguments to run it with (editable).
Ask = Callable[[ToolCallPart, str], tuple[Decision, str]]


@dataclass(frozen=True)
class ToolRun:
    call: ToolCallPart  # as run (the user may have edited its arguments)
    server: str
    result: ToolResultPart
    seconds: float
    decision: str  # "granted" (an always grant), or the Decision's value


@dataclass
class LoopResult:
    text: str = ""
    reasoning: str = ""
    runs: list[ToolRun] = field(default_factory=list)
    stop_reason: str = ""
    stats: p.Stats | None = None
    rounds: int = 0  # rounds of calls run
    added: list[Message] = field(default_factory=list)  # the assistant's calls, the results, the answer
    error: str = ""


@dataclass
class ToolLoop:
    engine: ChatEngine
    toolbox: ToolBox
    grants: Grants
    ask: Ask
    max_rounds: int = MAX_ROUNDS
    timeout: float = CALL_TIMEOUT_S
    tool_format: str = ""
    on_event: Callable[[ReplyEvent], None] = lambda event: None
    on_run: Callable[[ToolRun], None] = lambda run: None
    stop: threading.Event = field(default_factory=threading.Event)

    def reply(self, history: Sequence[ChatMessage], sampling: SamplingParams, thinking: str = "default",
              overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE) -> LoopResult:
        offered = self.toolbox.offered()
        tools = json.dumps(offered, ensure_ascii=False) if offered else ""
        messages = list(history)
        result = LoopResult()
        rounds = 0
        while True:
            text, reasoning, done = self._generate(messages, sampling, thinking, overflow, tools, result)
            if done is None:
                return result
            content, calls = read_calls(text, self.tool_format, offered, parsed_calls=done.tool_calls)
            result.stats, result.reasoning = done.stats, reasoning
            if not calls or self.stop.is_set():
                result.text, result.stop_reason = text, done.stats.stop_reason.value
                result.added.append(_message("assistant", (TextPart(text),), reasoning))
                return result
            if rounds >= self.max_rounds:
                result.stop_reason = TOOL_LIMIT
                result.text = (f"Stopped: the model asked for more tools after {self.max_rounds} "
                               f"round{'' if self.max_rounds == 1 else 's'} of calls (the limit for one reply).")
                result.added.append(_message("assistant", (TextPart(result.text),), reasoning))
                return result
            rounds = result.rounds = rounds + 1
            ran = [self._run(call) for call in calls]
            result.runs += ran
            asked = tuple(run.call for run in ran)
            result.added.append(_message("assistant", (TextPart(content), *asked), reasoning))
            messages.append(ChatMessage("assistant", content, reasoning,
                                        tool_calls=tuple((c.call_id, c.name, c.arguments) for c in asked)))
            for run in ran:
                result.added.append(_message("tool", (run.result,)))
                messages.append(ChatMessage("tool", run.result.content, tool_call_id=run.call.call_id))

    def _generate(self, messages: list[ChatMessage], sampling: SamplingParams, thinking: str,
                  overflow: OverflowPolicy, tools: str,
                  result: LoopResult) -> tuple[str, str, p.Done | None]:
        text, reasoning = [], []
        for event in self.engine.chat(messages, sampling, overflow, thinking, stop=self.stop, tools=tools):
            self.on_event(event)
            if isinstance(event, p.Token):
                text.append(event.text)
                reasoning.append(event.reasoning)
            elif isinstance(event, p.Error):
                result.error, result.stop_reason = event.message, p.StopReason.ERROR.value
                return "", "", None
            elif isinstance(event, p.Done):
                return event.text or "".join(text), event.reasoning or "".join(reasoning), event
        return "".join(text), "".join(reasoning), None

    def _run(self, call: ToolCallPart) -> ToolRun:
        server = self.toolbox.server_of(call.name)
        if not server:
            return self._answered(call, server, f"There is no tool named {call.name}.", True, 0.0, "unknown")
        fingerprint = self.toolbox.fingerprint_of(server)
        if self.grants.allowed(server, call.name, fingerprint):
            decision, arguments = "granted", call.arguments
        else:
            choice, arguments = self.ask(call, server)
            self.grants.record(choice, server, call.name, fingerprint)
            decision = choice.value
            if not choice.allows:
                refusal = ("The call was not run: nobody could be asked to allow it." if choice is Decision.UNASKED
                           else "The user did not allow this call.")
                return self._answered(call, server, refusal, True, 0.0, decision)
        call = ToolCallPart(call.call_id, call.name, arguments)
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return self._answered(call, server, f"The arguments are not valid JSON: {exc}.", True, 0.0, decision)
        if not isinstance(parsed, dict):
            return self._answered(call, server, "The arguments must be a JSON object.", True, 0.0, decision)
        outcome = self.toolbox.run(call.name, parsed, self.timeout, self.stop)
        return self._answered(call, server, outcome.text, outcome.is_error, outcome.seconds, decision)

    def _answered(self, call: ToolCallPart, server: str, text: str, is_error: bool, seconds: float,
                  decision: str) -> ToolRun:
        run = ToolRun(call, server, ToolResultPart(call.call_id, text, is_error), seconds, decision)
        self.on_run(run)
        return run


def _message(role: str, parts: tuple[Any, ...], reasoning: str = "") -> Message:
    thinking = (ThinkingPart(reasoning),) if reasoning and role == "assistant" else ()
    return Message(0, 0, 0, role, thinking + parts)
