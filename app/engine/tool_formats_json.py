"""Families whose calls are JSON between markers of their own, read as llama-server reads them
(its autoparser, which learns each format from how the template writes a past call):

- `functionary_v31`: `<function=NAME>{…}</function>` (Functionary medium v3.1);
- `firefunction_v2`: ` functools[{"name": …, "arguments": {…}}, …]` (FireFunction v2);
- `nemotron_v2`: `<TOOLCALL>[{"name": …, "arguments": {…}}, …]</TOOLCALL>` (Nemotron Nano v2);
- `minimax_m1`: `<tool_calls>` then one `{"name": …, "arguments": {…}}` a line, `</tool_calls>` (MiniMax M1);
- `gigachat_v31`: `<|function_call|>{"name": …, "arguments": {…}}` (GigaChat 3.1);
- `deepseek_v31`: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>…`
  (DeepSeek V3.1: the name first, the arguments as bare JSON, no ```json block as R1 writes);
- `functionary_v32`: the prompt ends with `>>>`; the reply is `all\nTEXT`, then or instead
  `NAME\n{…}` calls, each after `>>>` (Functionary medium v3.2). Its text is read without the
  `all\n` even when it makes no call, as llama-server does when tools are offered.

Each reads the text before the first marker as the reply's text and nothing but calls after it;
a call names an offered tool, its arguments one JSON object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.engine.tool_call_types import Family, ParsedCall, ParsedReply, Schemas, compact, json_at


def _call(item: Any, schemas: Schemas) -> ParsedCall | None:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or item["name"] not in schemas:
        return None
    arguments = item.get("arguments", {})
    return ParsedCall(item["name"], compact(arguments)) if isinstance(arguments, dict) else None


def _json_values(body: str) -> list[Any] | None:
    """The JSON values one after another in `body` (spaces between), or None."""
    values, at = [], 0
    while body[at:].strip():
        parsed = json_at(body, at)
        if parsed is None:
            return None
        values.append(parsed[0])
        at = parsed[1]
    return values


def _between(text: str, open_tag: str, close_tag: str,
             read: Callable[[str], list[ParsedCall] | None]) -> ParsedReply | None:
    """The text before `open_tag`, then calls up to `close_tag` (which may be missing at the end)."""
    first = text.find(open_tag)
    if first < 0:
        return None
    body = text[first + len(open_tag):]
    end = body.find(close_tag) if close_tag else -1
    if end >= 0:
        body, rest = body[:end], body[end + len(close_tag):]
        if rest.strip():
            return None
    calls = read(body)
    return ParsedReply(text[:first].strip(), tuple(calls)) if calls else None


def _list_of_calls(body: str, schemas: Schemas) -> list[ParsedCall] | None:
    values = _json_values(body)
    if values is None or len(values) != 1 or not isinstance(values[0], list):
        return None
    calls = [_call(item, schemas) for item in values[0]]
    return None if not calls or None in calls else [c for c in calls if c]


def _calls_in_a_row(body: str, schemas: Schemas) -> list[ParsedCall] | None:
    values = _json_values(body)
    calls = [_call(item, schemas) for item in values or []]
    return None if not calls or None in calls else [c for c in calls if c]


_FUNCTION = re.compile(r"<function=([^>\s]+)>")


def _functionary(text: str, schemas: Schemas) -> ParsedReply | None:
    first = text.find("<function=")
    if first < 0:
        return None
    calls, at = [], first
    while (match := _FUNCTION.match(text, at)) is not None:
        parsed = json_at(text, match.end())
        if match.group(1) not in schemas or parsed is None or not isinstance(parsed[0], dict):
            return None
        calls.append(ParsedCall(match.group(1), compact(parsed[0])))
        at = parsed[1] + len("</function>") if text.startswith("</function>", parsed[1]) else parsed[1]
        while at < len(text) and text[at].isspace():
            at += 1
    return ParsedReply(text[:first].strip(), tuple(calls)) if not text[at:].strip() else None


_DS_CALL = re.compile(r"<｜tool▁call▁begin｜>([^<]+)<｜tool▁sep｜>")


def _deepseek_v31(text: str, schemas: Schemas) -> ParsedReply | None:
    first = text.find("<｜tool▁calls▁begin｜>")
    if first < 0:
        return None
    calls, at = [], first + len("<｜tool▁calls▁begin｜>")
    while (match := _DS_CALL.match(text, at)) is not None:
        name, parsed = match.group(1).strip(), json_at(text, match.end())
        if name not in schemas or parsed is None or not isinstance(parsed[0], dict):
            return None
        calls.append(ParsedCall(name, compact(parsed[0])))
        at = parsed[1] + len("<｜tool▁call▁end｜>") if text.startswith("<｜tool▁call▁end｜>", parsed[1]) else parsed[1]
    rest = text[at:].strip().removeprefix("<｜tool▁calls▁end｜>")
    return ParsedReply(text[:first].strip(), tuple(calls)) if calls and not rest.strip() else None


_RECIPIENT = re.compile(r"([^\s>]+)\n")


def _functionary_v32(text: str, schemas: Schemas) -> ParsedReply | None:
    content, rest = "", text
    if text.startswith("all\n"):
        content, _, rest = text[len("all\n"):].partition(">>>")
        if not rest:
            return ParsedReply(content.strip())
    calls: list[ParsedCall] = []
    for block in rest.split(">>>"):
        match = _RECIPIENT.match(block)
        parsed = json_at(block, match.end()) if match else None
        if match is None or parsed is None or match.group(1) not in schemas or not isinstance(parsed[0], dict) \
                or block[parsed[1]:].strip():
            return None
        calls.append(ParsedCall(match.group(1), compact(parsed[0])))
    return ParsedReply(content.strip(), tuple(calls))


FAMILIES = (
    Family("functionary_v32", lambda src: ">>>all" in src and ">>>${recipient}" in src, _functionary_v32,
           (">>>",)),
    Family("functionary_v31",
           lambda src: "<function=" in src and "<|start_header_id|>" in src and "<tool_call>" not in src,
           _functionary, ("<function=", "</function>")),
    Family("firefunction_v2", lambda src: " functools[" in src,
           lambda text, schemas: _between(text, " functools", "", lambda body: _list_of_calls(body, schemas)),
           (" functools",)),
    Family("nemotron_v2", lambda src: "<TOOLCALL>" in src,
           lambda text, schemas: _between(text, "<TOOLCALL>", "</TOOLCALL>", lambda b: _list_of_calls(b, schemas)),
           ("<TOOLCALL>", "</TOOLCALL>")),
    Family("minimax_m1", lambda src: "<tool_calls>" in src and "<end_of_sentence>" in src,
           lambda text, schemas: _between(text, "<tool_calls>", "</tool_calls>",
                                          lambda body: _calls_in_a_row(body, schemas)),
           ("<tool_calls>", "</tool_calls>")),
    Family("gigachat_v31", lambda src: "<|function_call|>" in src,
           lambda text, schemas: _between(text, "<|function_call|>", "", lambda b: _calls_in_a_row(b, schemas)),
           ("<|function_call|>",)),
    Family("deepseek_v31", lambda src: "tool▁call▁begin" in src and "```json" not in src,
           _deepseek_v31, ("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
                           "<｜tool▁calls▁end｜>")),
)
