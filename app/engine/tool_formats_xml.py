"""Families whose calls are XML-like tags, read as llama-server reads them:

- `seed_oss`: `<seed:tool_call><function=NAME><parameter=KEY>VALUE</parameter></function></seed:tool_call>`
  (ByteDance Seed-OSS);
- `minimax_m2`: `<minimax:tool_call><invoke name="NAME"><parameter name="KEY">VALUE</parameter></invoke>…
  </minimax:tool_call>` (MiniMax M2);
- `deepseek_dsml`: `<｜DSML｜function_calls>` (V3.2) or `<｜DSML｜tool_calls>` (V4) around
  `<｜DSML｜invoke name="NAME"><｜DSML｜parameter name="KEY" string="true|false">VALUE</｜DSML｜parameter>…`;
- `minicpm5`: `<function name="NAME"><param name="KEY">VALUE</param></function>`, no block around (MiniCPM5);
- `hunyuan3`: `<tool_calls:opensource><tool_call:opensource>NAME<tool_sep:opensource>` then
  `<arg_key:opensource>KEY</arg_key:opensource><arg_value:opensource>VALUE</arg_value:opensource>`
  pairs (Tencent Hy3);
- `minimax_m3`: `]<]minimax[>[<tool_call>` then `<invoke name="NAME">` with a tag per argument
  (`<KEY>VALUE</KEY>`, a list as `<item>` tags), each tag after `]<]minimax[>[` (MiniMax M3);
- `muse_glimmer`: ` to=NAME<|message|>` (a header the reasoning parser reads) then
  `<atem:function_calls><atem:invoke name="NAME"><atem:parameter name="KEY">VALUE</atem:parameter>…`.

A value is text where the tool's schema (or DSML's `string="true"`) says string, else JSON where
it reads as JSON, as for Qwen3-Coder; one newline just inside a tag is not part of it.
"""

from __future__ import annotations

import json
import re

from app.engine.tool_call_types import (
    Family,
    JsonObject,
    ParsedCall,
    ParsedReply,
    Schemas,
    compact,
    declared_type,
    scalar,
)


def _value(raw: str, is_string: bool) -> object:
    raw = raw.removeprefix("\n").removesuffix("\n")
    return raw if is_string else scalar(raw)


def _blocks(text: str, open_tag: str, close_tag: str, schemas: Schemas, invoke: re.Pattern[str],
            parameter: re.Pattern[str]) -> ParsedReply | None:
    """The text before the first `open_tag`, then blocks of calls (`invoke`: name and body; `parameter`:
    key, string flag (may be empty) and value) with nothing but spaces between and after them."""
    first = text.find(open_tag)
    if first < 0:
        return None
    calls: list[ParsedCall] = []
    at = first
    while text.startswith(open_tag, at):
        end = text.find(close_tag, at)
        found = _invokes(text[at + len(open_tag):end if end >= 0 else len(text)], schemas, invoke, parameter)
        if found is None:
            return None
        calls += found
        at = end + len(close_tag) if end >= 0 else len(text)
        while at < len(text) and text[at].isspace():
            at += 1
    return ParsedReply(text[:first].strip(), tuple(calls)) if calls and not text[at:].strip() else None


def _invokes(body: str, schemas: Schemas, invoke: re.Pattern[str],
             parameter: re.Pattern[str]) -> list[ParsedCall] | None:
    """The calls that make up all of `body`, or None."""
    calls, pos = [], 0
    while (match := invoke.match(body, pos)) is not None:
        name = match.group(1)
        if name not in schemas:
            return None
        arguments: JsonObject = {}
        for key, flag, raw in parameter.findall(match.group(2)):
            string = flag == "true" if flag else declared_type(schemas, name, key) == "string"
            arguments[key.strip()] = _value(raw, string)
        calls.append(ParsedCall(name, compact(arguments)))
        pos = match.end()
    return calls if calls and not body[pos:].strip() else None


def _unwrapped(text: str, marker: str, schemas: Schemas, invoke: re.Pattern[str],
               parameter: re.Pattern[str]) -> ParsedReply | None:
    """The text before the first `marker`, then calls to the end (no block around them)."""
    first = text.find(marker)
    calls = _invokes(text[first:], schemas, invoke, parameter) if first >= 0 else None
    return ParsedReply(text[:first].strip(), tuple(calls)) if calls else None


_SEED_FUNCTION = re.compile(r"\s*<function=([^>\n]+)>(.*?)</function>\s*", re.S)
_SEED_PARAMETER = re.compile(r"<parameter=([^>\n]+)>()(.*?)</parameter>", re.S)
_MINIMAX_INVOKE = re.compile(r'\s*<invoke name="([^"]+)">(.*?)</invoke>\s*', re.S)
_MINIMAX_PARAMETER = re.compile(r'<parameter name="([^"]+)">()(.*?)</parameter>', re.S)
_DSML_INVOKE = re.compile(r'\s*<｜DSML｜invoke name="([^"]+)">(.*?)</｜DSML｜invoke>\s*', re.S)
_DSML_PARAMETER = re.compile(r'<｜DSML｜parameter name="([^"]+)"(?: string="(true|false)")?>(.*?)</｜DSML｜parameter>',
                             re.S)

_MINICPM_FUNCTION = re.compile(r'\s*<function name="([^"]+)">(.*?)</function>\s*', re.S)
_MINICPM_PARAMETER = re.compile(r'<param name="([^"]+)">()(.*?)</param>', re.S)
_HY_CALL = re.compile(r"\s*<tool_call:opensource>([^<\s]+)<tool_sep:opensource>(.*?)</tool_call:opensource>\s*",
                      re.S)
_HY_ARG = re.compile(r"<arg_key:opensource>(.*?)</arg_key:opensource>()\s*<arg_value:opensource>(.*?)"
                     r"</arg_value:opensource>", re.S)
_MUSE_INVOKE = re.compile(r'\s*<atem:invoke name="([^"]+)">(.*?)</atem:invoke>\s*', re.S)
_MUSE_PARAMETER = re.compile(r'<atem:parameter name="([^"]+)">()(.*?)</atem:parameter>', re.S)
MINIMAX_NS = "]<]minimax[>["  # MiniMax M3 writes it before each of its call's tags
_M3_INVOKE = re.compile(r'\s*<invoke name="([^"]+)">(.*?)</invoke>\s*', re.S)
_M3_PARAMETER = re.compile(r"<([^<>/\s]+)>()(.*?)</\1>", re.S)
_M3_ITEM = re.compile(r"<item>(.*?)</item>", re.S)


def _minimax_m3(text: str, schemas: Schemas) -> ParsedReply | None:
    first = text.find(MINIMAX_NS + "<tool_call>")
    if first < 0:
        return None
    end = text.find(MINIMAX_NS + "</tool_call>", first)
    if end >= 0 and text[end + len(MINIMAX_NS + "</tool_call>"):].strip():
        return None
    body = text[first + len(MINIMAX_NS + "<tool_call>"):end if end >= 0 else len(text)].replace(MINIMAX_NS, "")
    calls = _invokes(body, schemas, _M3_INVOKE, _M3_PARAMETER)
    if calls is None:
        return None
    for i, call in enumerate(calls):  # a list is written as <item> tags
        arguments = json.loads(call.arguments)
        for key, value in arguments.items():
            if isinstance(value, str) and declared_type(schemas, call.name, key) == "array":
                arguments[key] = [scalar(item) for item in _M3_ITEM.findall(value)]
        calls[i] = ParsedCall(call.name, compact(arguments))
    return ParsedReply(text[:first].strip(), tuple(calls))


def _dsml(text: str, schemas: Schemas) -> ParsedReply | None:
    for block in ("function_calls", "tool_calls"):  # V3.2, V4
        if f"<｜DSML｜{block}>" in text:
            return _blocks(text, f"<｜DSML｜{block}>", f"</｜DSML｜{block}>", schemas, _DSML_INVOKE, _DSML_PARAMETER)
    return None


FAMILIES = (
    Family("seed_oss", lambda src: "<seed:tool_call>" in src,
           lambda text, schemas: _blocks(text, "<seed:tool_call>", "</seed:tool_call>", schemas, _SEED_FUNCTION,
                                         _SEED_PARAMETER),
           ("<seed:tool_call>", "</seed:tool_call>")),
    Family("minimax_m2", lambda src: "<minimax:tool_call>" in src,
           lambda text, schemas: _blocks(text, "<minimax:tool_call>", "</minimax:tool_call>", schemas,
                                         _MINIMAX_INVOKE, _MINIMAX_PARAMETER),
           ("<minimax:tool_call>", "</minimax:tool_call>")),
    Family("minicpm5", lambda src: '<function name="' in src and '<param name="' in src,
           lambda text, schemas: _unwrapped(text, '<function name="', schemas, _MINICPM_FUNCTION,
                                            _MINICPM_PARAMETER),
           ('<function name="', "</function>")),
    Family("hunyuan3", lambda src: "<tool_sep{}>" in src,
           lambda text, schemas: _blocks(text, "<tool_calls:opensource>", "</tool_calls:opensource>", schemas,
                                         _HY_CALL, _HY_ARG),
           ("<tool_calls:opensource>", "</tool_calls:opensource>")),
    Family("muse_glimmer", lambda src: "<atem:function_calls>" in src and "<|eom|>" in src,
           lambda text, schemas: _blocks(text, "<atem:function_calls>", "</atem:function_calls>", schemas,
                                         _MUSE_INVOKE, _MUSE_PARAMETER),
           ("<atem:function_calls>", "</atem:function_calls>")),
    Family("minimax_m3", lambda src: MINIMAX_NS in src and "<tool_call>" in src and "<invoke name=" in src,
           _minimax_m3, (MINIMAX_NS + "<tool_call>", MINIMAX_NS + "</tool_call>")),
    Family("deepseek_dsml", lambda src: "dsml_token" in src and "DSML" in src, _dsml,
           ("<｜DSML｜", "</｜DSML｜")),
)
