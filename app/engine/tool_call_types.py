"""What every tool-call reader shares: a parsed call and reply, JSON helpers, and the shape of a
family that lives in a module of its own (app/engine/tool_formats_*.py), registered in tool_calls.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class ParsedCall:
    name: str
    arguments: str  # JSON text of an object, compact, as llama-server sends it
    id: str = ""  # the model's own id, where its format writes one (Mistral Nemo, Command R7B)


@dataclass(frozen=True)
class ParsedReply:
    content: str
    calls: tuple[ParsedCall, ...] = ()


Schemas = Mapping[str, JsonObject]  # each offered function's parameter schema, by name


@dataclass(frozen=True)
class Family:
    """A reply format llama-server reads with a handler of its own.

    `detect` mirrors llama-server's test of the template source; `read` gives the reply's text and
    calls, or None when it holds no call the format allows (it is then text, or a bare-JSON call);
    `tokens` are the markers its calls are written with, the opening one first."""
    name: str
    detect: Callable[[str], bool]
    read: Callable[[str, Schemas], ParsedReply | None]
    tokens: tuple[str, ...]


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_at(text: str, start: int) -> tuple[Any, int] | None:
    """The JSON value starting at `start` (spaces skipped) and where it ends, or None."""
    at = start
    while at < len(text) and text[at].isspace():
        at += 1
    try:
        return _DECODER.raw_decode(text, at)
    except json.JSONDecodeError:
        return None


def scalar(raw: str) -> Any:
    """A parameter value: JSON where it reads as JSON, the text itself otherwise."""
    parsed = json_at(raw, 0)
    return parsed[0] if parsed is not None and not raw[parsed[1]:].strip() else raw


def declared_type(schemas: Schemas, name: str, key: str) -> Any:
    """The JSON Schema type the tool `name` declares for its parameter `key` (None when unknown)."""
    properties = schemas.get(name, {}).get("properties", {})
    prop = properties.get(key) if isinstance(properties, dict) else None
    return prop.get("type") if isinstance(prop, dict) else None
