"""Families whose calls are written as code rather than JSON, read as llama-server reads them:

- `lfm2`: `<|tool_call_start|>[NAME(key="value", n=2), …]<|tool_call_end|>` (LFM2 with its
  `<|tool_list_start|>` template, LFM2.5): Python call syntax, literals only (JSON's true, false and
  null accepted too);
- `gemma4`: `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:2,flag:true}<tool_call|>`, one block a call
  (Gemma 4): strings between `<|"|>` marks, keys bare, numbers, booleans, null, lists and dicts.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from app.engine.tool_call_types import Family, ParsedCall, ParsedReply, Schemas, compact

_JSON_NAMES = {"true": True, "false": False, "null": None}


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _JSON_NAMES:
        return _JSON_NAMES[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k) if k is not None else None: _literal(v) for k, v in zip(node.keys, node.values)}
    return ast.literal_eval(node)  # strings, numbers, True/False/None, -1; anything else raises ValueError


def _python_calls(body: str, schemas: Schemas) -> list[ParsedCall] | None:
    try:
        tree = ast.parse(body.strip(), mode="eval").body
        if not isinstance(tree, ast.List) or not tree.elts:
            return None
        calls = []
        for item in tree.elts:
            if not isinstance(item, ast.Call) or not isinstance(item.func, ast.Name) or item.args:
                return None
            if item.func.id not in schemas or any(k.arg is None for k in item.keywords):
                return None
            calls.append(ParsedCall(item.func.id, compact({k.arg: _literal(k.value) for k in item.keywords})))
        return calls
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def _lfm2(text: str, schemas: Schemas) -> ParsedReply | None:
    first = text.find("<|tool_call_start|>")
    if first < 0:
        return None
    end = text.find("<|tool_call_end|>", first)
    body = text[first + len("<|tool_call_start|>"):end if end >= 0 else len(text)]
    if end >= 0 and text[end + len("<|tool_call_end|>"):].strip():
        return None
    calls = _python_calls(body, schemas)
    return ParsedReply(text[:first].strip(), tuple(calls)) if calls else None


_QUOTE = '<|"|>'
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_KEY = re.compile(r"[^:}]+")


class _Gemma4Reader:
    """Gemma 4's value syntax, as llama-server's gemma4 rules read it."""

    def __init__(self, text: str, at: int) -> None:
        self.text, self.at = text, at

    def _space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def _take(self, literal: str) -> bool:
        if self.text.startswith(literal, self.at):
            self.at += len(literal)
            return True
        return False

    def value(self, depth: int = 0) -> Any:
        if depth > 64:
            raise ValueError("nested too deeply")
        if self._take(_QUOTE):
            end = self.text.find(_QUOTE, self.at)
            if end < 0:
                raise ValueError("an unfinished string")
            text, self.at = self.text[self.at:end], end + len(_QUOTE)
            return text
        if self.text.startswith("{", self.at):
            return self.dict(depth + 1)
        if self._take("["):
            items: list[Any] = []
            self._space()
            while not self._take("]"):
                if items and not self._take(","):
                    raise ValueError("a list item without a comma")
                self._space()
                items.append(self.value(depth + 1))
                self._space()
            return items
        for word, named in _JSON_NAMES.items():
            if self._take(word):
                return named
        match = _NUMBER.match(self.text, self.at)
        if match is None:
            raise ValueError("not a value")
        self.at = match.end()
        return json.loads(match.group())

    def dict(self, depth: int = 0) -> dict[str, Any]:
        if not self._take("{"):
            raise ValueError("not a dict")
        found: dict[str, Any] = {}
        self._space()
        while not self._take("}"):
            if found and not self._take(","):
                raise ValueError("a member without a comma")
            self._space()
            key = _KEY.match(self.text, self.at)
            if key is None or not self.text.startswith(":", key.end()):
                raise ValueError("a member without a key")
            self.at = key.end() + 1
            self._space()
            found[key.group()] = self.value(depth)
            self._space()
        return found


_GEMMA_CALL = re.compile(r"<\|tool_call>call:([^{<\s]+)(?=\{)")


def _gemma4(text: str, schemas: Schemas) -> ParsedReply | None:
    first = text.find("<|tool_call>")
    if first < 0:
        return None
    calls, at = [], first
    while (match := _GEMMA_CALL.match(text, at)) is not None:
        reader = _Gemma4Reader(text, match.end())
        try:
            arguments = reader.dict()
        except ValueError:
            return None
        if match.group(1) not in schemas or not text.startswith("<tool_call|>", reader.at):
            return None
        calls.append(ParsedCall(match.group(1), compact(arguments)))
        at = reader.at + len("<tool_call|>")
    return ParsedReply(text[:first].strip(), tuple(calls)) if calls and not text[at:].strip() else None


FAMILIES = (
    Family("lfm2", lambda src: ("<|tool_list_start|>" in src and "<|tool_list_end|>" in src)
           or ("List of tools: [" in src and "<|tool_list_start|>" not in src), _lfm2,
           ("<|tool_call_start|>", "<|tool_call_end|>")),
    Family("gemma4", lambda src: "'<|tool_call>call:'" in src, _gemma4, ("<|tool_call>", "<tool_call|>")),
)
