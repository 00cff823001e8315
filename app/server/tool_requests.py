"""The tool fields of an OpenAI chat request: `tools`, `tool_choice`, `parallel_tool_calls`, and the
messages that carry calls (`assistant` with `tool_calls`) and results (`role: "tool"`).

The server never runs a tool: it describes the offered tools to the model (through the chat
template, as llama-server does), reads the calls out of the reply and returns them; the client
runs them and sends the results back as `tool` messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.chat.message import Message, Part, TextPart, ToolCallPart, ToolResultPart

MAX_TOOLS = 128


class ToolRequestError(ValueError):
    """A tool field the server cannot use (answered with 400)."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.message, self.param = message, param


@dataclass(frozen=True)
class ToolOptions:
    tools: tuple[dict[str, Any], ...] = ()  # what the template is given (narrowed to one for a named choice)
    choice: str = "auto"  # "auto", "none", "required" or "function"
    parallel: bool = True

    @property
    def parse_calls(self) -> bool:
        return bool(self.tools) and self.choice != "none"

    def as_json(self) -> str:
        """The tools as the engine takes them: a JSON array, or "" when none are offered."""
        return json.dumps(list(self.tools), ensure_ascii=False) if self.tools else ""


def _tool(item: object, index: int) -> dict[str, Any]:
    where = f"tools[{index}]"
    if not isinstance(item, dict) or item.get("type", "function") != "function":
        raise ToolRequestError(f"{where} must be an object with 'type': 'function'", "tools")
    function = item.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        raise ToolRequestError(f"{where}.function must be an object with a 'name'", "tools")
    parameters = function.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(parameters, dict):
        raise ToolRequestError(f"{where}.function.parameters must be a JSON Schema object", "tools")
    clean: dict[str, Any] = {"name": function["name"]}
    if isinstance(function.get("description"), str):
        clean["description"] = function["description"]
    clean["parameters"] = parameters
    return {"type": "function", "function": clean}


def parse_tool_options(body: dict[str, Any]) -> ToolOptions:
    raw = body.get("tools")
    if raw is None:
        raw = []
    if not isinstance(raw, list) or len(raw) > MAX_TOOLS:
        raise ToolRequestError(f"'tools' must be a list of at most {MAX_TOOLS} functions", "tools")
    tools = tuple(_tool(item, i) for i, item in enumerate(raw))
    parallel = body.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise ToolRequestError("'parallel_tool_calls' must be true or false", "parallel_tool_calls")
    choice = body.get("tool_choice", "auto" if tools else "none")
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise ToolRequestError("'tool_choice' must be auto, none, required or a function", "tool_choice")
        if choice == "required" and not tools:
            raise ToolRequestError("'tool_choice' is required but no 'tools' were given", "tool_choice")
        return ToolOptions(tools, choice, parallel)
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str):
        raise ToolRequestError("'tool_choice' must be auto, none, required or "
                               "{\"type\": \"function\", \"function\": {\"name\": …}}", "tool_choice")
    named = tuple(t for t in tools if t["function"]["name"] == name)
    if not named:
        raise ToolRequestError(f"'tool_choice' names the function {name!r}, which is not in 'tools'", "tool_choice")
    return ToolOptions(named, "function", parallel)


def _arguments(value: object, where: str) -> str:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return value
    raise ToolRequestError(f"{where}.function.arguments must be a JSON string", "messages")


def assistant_calls(message: dict[str, Any], index: int) -> tuple[Part, ...]:
    """An assistant message's `tool_calls` as parts (none when it has none)."""
    calls = message.get("tool_calls")
    if calls is None:
        return ()
    if not isinstance(calls, list):
        raise ToolRequestError(f"messages[{index}].tool_calls must be a list", "messages")
    parts: list[Part] = []
    for n, call in enumerate(calls):
        where = f"messages[{index}].tool_calls[{n}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ToolRequestError(f"{where} must have a function with a name", "messages")
        call_id = call.get("id") if isinstance(call.get("id"), str) else f"call_{index}_{n}"
        parts.append(ToolCallPart(call_id, function["name"], _arguments(function.get("arguments", "{}"), where)))
    return tuple(parts)


def tool_message(message: dict[str, Any], content: str, index: int) -> Message:
    """A `role: "tool"` message: the result of the call it names."""
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise ToolRequestError(f"messages[{index}] has role 'tool' but no 'tool_call_id'", "messages")
    return Message.from_openai("tool", [ToolResultPart(call_id, content)])


def assistant_message(content: str, calls: tuple[Part, ...]) -> Message:
    return Message.from_openai("assistant", [TextPart(content), *calls])
