"""Tool calls read out of a model's reply, the way llama-server (`--jinja`) reads them.

llama-server picks a reply format from the chat template's source and parses the reply
with it; `tool_format()` makes the same choice from the same markers, and `parse_reply()`
splits a reply into its text and its calls for that format:

- `hermes`: `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (Hermes 2/3, Qwen 2.5, Qwen3, SmolLM3…);
- `qwen3_coder`: `<tool_call><function=NAME><parameter=KEY>VALUE</parameter></function></tool_call>`
  (Qwen3-Coder, Qwen3.5, Nemotron Nano 3);
- `llama3`: `{"name": …, "parameters": {…}}` as the whole reply, after an optional `<|python_tag|>`;
- `mistral`: `[TOOL_CALLS][{"name": …, "arguments": {…}, "id": …}]` (Nemo) and
  `[TOOL_CALLS]NAME[ARGS]{…}` (Mistral Small 3.2, Devstral, Ministral 3);
- `command_r7b`: `<|START_ACTION|>[{"tool_name": …, "parameters": {…}}]<|END_ACTION|>`;
- Granite 3.3's `<|tool_call|>[…]` is not read: its template never writes a past call, so
  llama-server cannot learn the format and returns the reply as text; Hearth does the same;
- `deepseek_r1`: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME` then a ```json block;
- `kimi_k2`: `<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{…}`
  `<|tool_call_end|><|tool_calls_section_end|>` (Kimi K2 Instruct and Thinking; the id is `functions.NAME:N`);
- `glm45`: `<tool_call>NAME` then `<arg_key>KEY</arg_key><arg_value>VALUE</arg_value>` lines, `</tool_call>`
  (GLM 4.5, 4.6, 4.7, Ling 3.0, Laguna, Spark 2.5; a value is text where the schema says string, else
  JSON where it reads as JSON).

Beyond llama-server, `bare_json_call()` accepts the one shape small models write without their
format's tags: the whole reply is one JSON object (bare, or alone in one ```json fence) naming an
offered tool, whose arguments fit that tool's schema. Nothing else is ever guessed: text that only
looks like a call stays text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.engine.tool_call_types import JsonObject, ParsedCall, ParsedReply, compact, json_at, scalar
from app.engine.tool_formats import FAMILIES

__all__ = ["CALL_MARKERS", "CALL_TOKENS", "ParsedCall", "ParsedReply", "bare_json_call", "parse_reply", "tool_format"]

# The markers each format writes its calls with, the opening one first (a streamed reply is held
# back from there on). Where a vocabulary makes them control tokens, they are printed all the same,
# as llama-server prints them when tools are offered: a call could not be read without them.
CALL_TOKENS = {
    "hermes": ("<tool_call>", "</tool_call>"),
    "qwen3_coder": ("<tool_call>", "</tool_call>"),
    "mistral": ("[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"),
    "llama3": ("<|python_tag|>",),
    "command_r7b": ("<|START_ACTION|>", "<|END_ACTION|>"),
    "deepseek_r1": ("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
                    "<｜tool▁calls▁end｜>"),
    "glm45": ("<tool_call>", "</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"),
    "kimi_k2": ("<|tool_calls_section_begin|>", "<|tool_call_begin|>", "<|tool_call_argument_begin|>",
                "<|tool_call_end|>", "<|tool_calls_section_end|>"),
}
CALL_TOKENS.update({family.name: family.tokens for family in FAMILIES})  # formats with modules of their own
CALL_MARKERS = {fmt: tokens[0] for fmt, tokens in CALL_TOKENS.items()}


def printed_call_tokens(template_source: str,
                        control_token_ids: Callable[[list[str]], list[int]]) -> dict[int, tuple[bool, bytes]]:
    """The engine's token facts (ends the reply, bytes printed) for the markers of the template's
    call format that the vocabulary makes control tokens: printed, so the call can be read."""
    facts: dict[int, tuple[bool, bytes]] = {}
    for marker in CALL_TOKENS.get(tool_format(template_source), ()):
        for token in control_token_ids([marker]):
            facts[token] = (False, marker.encode())
    return facts

def tool_format(template_source: str) -> str:
    """The reply format llama-server would read for this template ("" when it has no tool calls)."""
    src = template_source
    for family in FAMILIES:  # llama-server's own handlers, tried before its general ones as it does
        if family.detect(src):
            return family.name
    if "<|tool_calls_section_begin|>" in src and "<|tool_call_begin|>" in src:  # a handler of its own, first
        return "kimi_k2"
    if "<tool_call>" in src and "<arg_key>" in src and "<arg_value>" in src:  # GLM, Ling 3, Laguna, Spark
        return "glm45"
    if "<tool_call>" in src and "<function=" in src and "<parameter=" in src:
        return "qwen3_coder"
    if "[TOOL_CALLS]" in src:
        return "mistral"
    if "<|START_ACTION|>" in src:
        return "command_r7b"
    if "tool▁call▁begin" in src:
        return "deepseek_r1"
    if "<tool_call>" in src:
        return "hermes"
    if "<|start_header_id|>" in src and ("ipython" in src or "<|python_tag|>" in src):
        return "llama3"
    return ""


def _call(item: Any, args_key: str = "arguments", name_key: str = "name", id_key: str = "id") -> ParsedCall | None:
    if not isinstance(item, dict) or not isinstance(item.get(name_key), str):
        return None
    arguments = item.get(args_key, {})
    if isinstance(arguments, str):  # some models write the arguments as JSON text
        parsed = json_at(arguments, 0)
        arguments = parsed[0] if parsed else arguments
    if not isinstance(arguments, dict):
        return None
    call_id = item.get(id_key)
    return ParsedCall(item[name_key], compact(arguments), str(call_id) if call_id is not None else "")


def _tagged(text: str, open_tag: str, close_tag: str,
            read: Callable[[str], list[ParsedCall] | None]) -> ParsedReply | None:
    """Calls in `open_tag … close_tag` blocks after the text; None when one does not parse."""
    first = text.find(open_tag)
    if first < 0:
        return None
    calls: list[ParsedCall] = []
    at = first
    while at < len(text):
        if not text.startswith(open_tag, at):
            if text[at:].strip():
                return None  # text after a call: not a call the format allows
            break
        end = text.find(close_tag, at + len(open_tag)) if close_tag else len(text)
        if end < 0:
            end = len(text)  # an unfinished last block (the model stopped at its end token)
        found = read(text[at + len(open_tag):end])
        if found is None:
            return None
        calls += found
        at = end + len(close_tag) if close_tag and end < len(text) else len(text)
        while at < len(text) and text[at].isspace():
            at += 1
    return ParsedReply(text[:first].rstrip(), tuple(calls))


def _one_json(body: str, args_key: str = "arguments") -> list[ParsedCall] | None:
    parsed = json_at(body, 0)
    if parsed is None or body[parsed[1]:].strip():
        return None
    call = _call(parsed[0], args_key)
    return [call] if call else None


def _json_list(body: str, args_key: str = "arguments", name_key: str = "name",
               id_key: str = "id") -> list[ParsedCall] | None:
    parsed = json_at(body, 0)
    if parsed is None or body[parsed[1]:].strip():
        return None
    items = parsed[0] if isinstance(parsed[0], list) else [parsed[0]]
    calls = [_call(item, args_key, name_key, id_key) for item in items]
    return None if not calls or any(c is None for c in calls) else [c for c in calls if c]


_FUNCTION = re.compile(r"\s*<function=([^>\n]+)>(.*?)</function>\s*", re.S)
_PARAMETER = re.compile(r"<parameter=([^>\n]+)>\n?(.*?)\n?</parameter>", re.S)


def _xml_function(body: str, schemas: Mapping[str, JsonObject]) -> list[ParsedCall] | None:
    match = _FUNCTION.fullmatch(body)
    if match is None:
        return None
    name = match.group(1).strip()
    properties = schemas.get(name, {}).get("properties", {})
    arguments: JsonObject = {}
    for key, raw in _PARAMETER.findall(match.group(2)):
        kind = properties.get(key, {}).get("type") if isinstance(properties, dict) else None
        arguments[key] = raw if kind == "string" else scalar(raw)
    return [ParsedCall(name, compact(arguments))]


_GLM_ARG = re.compile(r"\s*<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.S)


def _glm_function(body: str, schemas: Mapping[str, JsonObject]) -> list[ParsedCall] | None:
    cut = min(at for at in (body.find("\n"), body.find("<arg_key>"), len(body)) if at >= 0)
    name, rest = body[:cut].strip(), body[cut:]  # GLM 4.7, Laguna S write no newline after the name
    if not name or "<" in name:
        return None
    properties = schemas.get(name, {}).get("properties", {})
    arguments: JsonObject = {}
    at = 0
    while (match := _GLM_ARG.match(rest, at)) is not None:
        key, raw = match.group(1).strip(), match.group(2)
        kind = properties.get(key, {}).get("type") if isinstance(properties, dict) else None
        arguments[key] = raw if kind == "string" else scalar(raw)
        at = match.end()
    return [ParsedCall(name, compact(arguments))] if not rest[at:].strip() else None


def _mistral(text: str) -> ParsedReply | None:
    marker = "[TOOL_CALLS]"
    first = text.find(marker)
    if first < 0:
        return None
    calls: list[ParsedCall] = []
    for block in text[first + len(marker):].split(marker):
        if "[ARGS]" in block:  # NAME[ARGS]{…}
            name, _, args = block.partition("[ARGS]")
            parsed = json_at(args, 0)
            if parsed is None or args[parsed[1]:].strip() or not isinstance(parsed[0], dict):
                return None
            calls.append(ParsedCall(name.strip(), compact(parsed[0])))
        else:
            found = _json_list(block)
            if found is None:
                return None
            calls += found
    return ParsedReply(text[:first].rstrip(), tuple(calls))


def _llama3(text: str) -> ParsedReply | None:
    body = text.split("<|python_tag|>", 1)[1] if "<|python_tag|>" in text else text
    parsed = json_at(body, 0)
    if parsed is None or body[parsed[1]:].strip():
        return None
    item = parsed[0]
    if not isinstance(item, dict) or "parameters" not in item:
        return None  # llama-server reads only {"name", "parameters"}; anything else is the bare-JSON rule's
    call = _call(item, "parameters")
    return ParsedReply("", (call,)) if call else None


_DEEPSEEK = re.compile(r"<｜tool▁call▁begin｜>function<｜tool▁sep｜>([^\n]+)\n```json\n(.*?)\n```"
                       r"<｜tool▁call▁end｜>", re.S)


def _deepseek(text: str) -> ParsedReply | None:
    first = text.find("<｜tool▁calls▁begin｜>")
    if first < 0:
        return None
    calls = []
    for name, args in _DEEPSEEK.findall(text[first:]):
        parsed = json_at(args, 0)
        if parsed is None or not isinstance(parsed[0], dict):
            return None
        calls.append(ParsedCall(name.strip(), compact(parsed[0])))
    return ParsedReply(text[:first].rstrip(), tuple(calls)) if calls else None


_KIMI_CALL = re.compile(r"<\|tool_call_begin\|>functions\.([^:<]+):(\d+)<\|tool_call_argument_begin\|>")


def _kimi(text: str, schemas: Mapping[str, JsonObject]) -> ParsedReply | None:
    """Kimi K2: the text up to the calls, then each `functions.NAME:N` call of an offered tool with its JSON."""
    starts = [at for at in (text.find("<|tool_calls_section_begin|>"), text.find("<|tool_call_begin|>")) if at >= 0]
    if not starts:
        return None
    first = min(starts)
    at = first + len("<|tool_calls_section_begin|>") if text.startswith("<|tool_calls_section_begin|>", first) \
        else first
    calls: list[ParsedCall] = []
    while (match := _KIMI_CALL.match(text, at)) is not None:
        name, parsed = match.group(1), json_at(text, match.end())
        if name not in schemas or parsed is None or not isinstance(parsed[0], dict):
            return None
        calls.append(ParsedCall(name, compact(parsed[0]), f"functions.{name}:{match.group(2)}"))
        at = parsed[1] + len("<|tool_call_end|>") if text.startswith("<|tool_call_end|>", parsed[1]) else parsed[1]
    rest = text[at:].removeprefix("<|tool_calls_section_end|>")
    return ParsedReply(text[:first].rstrip(), tuple(calls)) if calls and not rest.strip() else None


def _schemas(tools: Sequence[JsonObject]) -> dict[str, JsonObject]:
    """Each offered function's parameter schema, by name (OpenAI's tool shape)."""
    found: dict[str, JsonObject] = {}
    for tool in tools:
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            found[function["name"]] = parameters if isinstance(parameters, dict) else {}
    return found


def parse_reply(text: str, fmt: str, tools: Sequence[JsonObject]) -> ParsedReply:
    """The reply's text and calls; with no tools offered, or no call found, all of it is text."""
    if not tools:
        return ParsedReply(text)
    schemas = _schemas(tools)
    readers: dict[str, Callable[[], ParsedReply | None]] = {
        "hermes": lambda: _tagged(text, "<tool_call>", "</tool_call>", _one_json),
        "qwen3_coder": lambda: _tagged(text, "<tool_call>", "</tool_call>",
                                       lambda body: _xml_function(body, schemas)),
        "mistral": lambda: _mistral(text),
        "llama3": lambda: _llama3(text),
        "command_r7b": lambda: _tagged(text, "<|START_ACTION|>", "<|END_ACTION|>",
                                       lambda body: _json_list(body, "parameters", "tool_name", "tool_call_id")),
        "deepseek_r1": lambda: _deepseek(text),
        "kimi_k2": lambda: _kimi(text, schemas),
        "glm45": lambda: _tagged(text, "<tool_call>", "</tool_call>", lambda body: _glm_function(body, schemas)),
    }
    reader = readers.get(fmt)
    family = next((f for f in FAMILIES if f.name == fmt), None)
    parsed = reader() if reader else family.read(text, schemas) if family else None
    if parsed is not None and (parsed.calls or family is not None):
        return parsed  # a family's reader may also give its plain text (Functionary v3.2's `all\n`)
    bare = bare_json_call(text, schemas)
    return ParsedReply("", (bare,)) if bare else ParsedReply(text)


_FENCE = re.compile(r"\s*```(?:json)?[ \t]*\n(.*?)\n?```\s*", re.S)


def bare_json_call(text: str, schemas: Mapping[str, JsonObject]) -> ParsedCall | None:
    """The whole reply as one JSON call of an offered tool whose arguments fit its schema, or None.

    The object may stand in one ```json fence that is the whole reply (as Qwen2.5-Coder 0.5B writes it)."""
    fenced = _FENCE.fullmatch(text)
    if fenced is not None and "```" not in fenced.group(1):
        text = fenced.group(1)
    parsed = json_at(text, 0)
    if parsed is None or text[parsed[1]:].strip():
        return None
    item = parsed[0]
    if not isinstance(item, dict) or set(item) - {"name", "arguments", "parameters"}:
        return None
    call = _call(item, "arguments" if "arguments" in item else "parameters")
    if call is None or call.name not in schemas:
        return None
    return call if fits_schema(json.loads(call.arguments), schemas[call.name]) else None


_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                       "boolean": (bool,), "object": (dict,), "array": (list,)}


def fits_schema(arguments: JsonObject, schema: JsonObject) -> bool:
    """Arguments that name only known properties (when the schema lists them), give every required
    one, and whose values have the declared JSON types. Enough to tell a call from prose."""
    properties = schema.get("properties")
    required = schema.get("required", [])
    if isinstance(required, list) and any(key not in arguments for key in required):
        return False
    if not isinstance(properties, dict):
        return True
    if properties and any(key not in properties for key in arguments):
        return False
    for key, value in arguments.items():
        declared = properties.get(key, {}).get("type") if isinstance(properties.get(key), dict) else None
        kinds = _TYPES.get(declared) if isinstance(declared, str) else None
        if declared == "integer" and isinstance(value, float) and value.is_integer():
            continue  # JSON Schema counts 2.0 as an integer
        if kinds and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
            return False
    return True
