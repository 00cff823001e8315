"""gpt-oss (OpenAI's Harmony format), read as llama-server's gpt-oss handler reads it.

A call is a message to a function: `<|start|>assistant<|channel|>commentary to=functions.NAME
<|constrain|>json<|message|>{…}<|call|>`, or with the recipient in the role header,
`<|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>{…}`. The channel may
also be `analysis`. The reasoning parser (engine/reasoning.py) keeps the analysis channel as
thinking and hands a call's header and arguments on as answer text in the first shape above
(its `<|start|>assistant` restored where the prompt held it), so this reader sees the preamble
and final text, then at most one call: llama-server reads one call per reply, of an offered tool,
its arguments one JSON object; `<|call|>` ends the generation and may be missing.
"""

from __future__ import annotations

import re

from app.engine.tool_call_types import Family, ParsedCall, ParsedReply, Schemas, compact, json_at

START = "<|start|>assistant"
_NAME = r"[^\s<]+"
_HEADER = re.compile(rf"<\|start\|>assistant(?: to=functions\.(?P<role>{_NAME}))?"
                     rf"<\|channel\|>(?:commentary|analysis)(?: to=functions\.(?P<channel>{_NAME}))?"
                     r"(?:\s*(?:<\|constrain\|>)?[A-Za-z0-9_-]+)?<\|message\|>")


def is_harmony(source: str) -> bool:
    return "<|channel|>" in source  # llama-server's own test: the gpt-oss handler before any other


def read(text: str, schemas: Schemas) -> ParsedReply | None:
    first = text.find(START)
    if first < 0:
        return None
    match = _HEADER.match(text, first)
    if match is None or (match.group("role") is None) == (match.group("channel") is None):
        return None  # the recipient goes in the role header or the channel header, once
    name = match.group("role") or match.group("channel")
    parsed = json_at(text, match.end())
    if name not in schemas or parsed is None or not isinstance(parsed[0], dict):
        return None
    if text[parsed[1]:].strip() not in ("", "<|call|>"):
        return None
    return ParsedReply(text[:first].strip(), (ParsedCall(name, compact(parsed[0])),))


FAMILY = Family("gpt_oss", is_harmony, read, (START,))
