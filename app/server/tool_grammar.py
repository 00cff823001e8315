"""Forced tool calls: the grammar for `tool_choice: "required"` or a named function, and the calls read
back from a reply sampled under it.

llama-server enforces both with a grammar; so does Hearth. The reply must be the bare JSON call
`{"name": "<tool>", "arguments": {…}}` of an offered tool (only the named one for a named choice),
its arguments following that tool's JSON schema, or that call in Hermes' `<tool_call>…</tool_call>`
tags (the format Qwen and Hermes models are trained to write); with `parallel_tool_calls` several
tagged calls, or a JSON array of calls, are allowed too. The engine applies the grammar first in its
sampler chain (SamplingParams.grammar), so any model, whatever its own call format, answers with a
call. The model's format reader or the bare-JSON rule (engine/tool_calls.py) reads the reply;
`forced_calls` reads what they leave (an array, or tags a non-Hermes format does not read).

Each tool's arguments grammar comes from llama-cpp-python's JSON-schema converter, loaded from its
file: importing the `llama_cpp` package would load llama.cpp itself, which the GUI process (the in-app
server) never does. Where the converter is missing (a frozen bundle) or refuses a schema, that tool's
arguments may be any JSON object, and the bare-JSON rule still checks them against the schema.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.engine.tool_calls import ParsedCall, bare_json_call
from app.server.tool_requests import ToolOptions

# Any JSON object (llama.cpp's grammars/json.gbnf, whitespace kept to one space as the converter does).
ANY_OBJECT = r"""root ::= object
value ::= object | array | string | number | ("true" | "false" | "null") space
object ::= "{" space ( string ":" space value ( "," space string ":" space value )* )? "}" space
array ::= "[" space ( value ( "," space value )* )? "]" space
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\"" space
number ::= "-"? ( [0-9] | [1-9] [0-9]{0,15} ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]{1,15} )? space
space ::= " "?"""

# A GBNF rule's right side, token by token: literals, character classes and repetition counts ({0,15})
# are never renamed.
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|\{[0-9,\s]*\}|[a-zA-Z0-9-]+|\s+|.', re.S)
_TAGGED = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)
_RULE = re.compile(r"^([a-zA-Z0-9-]+)\s*::=\s*(.*)$")


@functools.cache
def _converter() -> Callable[[str], str] | None:
    """llama-cpp-python's json_schema_to_gbnf, or None when its file cannot be read."""
    try:
        spec = importlib.util.find_spec("llama_cpp")  # finds the package without importing it
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        path = next((Path(f) / "llama_grammar.py" for f in folders if (Path(f) / "llama_grammar.py").is_file()), None)
        if path is None:
            return None
        module_spec = importlib.util.spec_from_file_location("hearth_llama_grammar", path)
        if module_spec is None or module_spec.loader is None:
            return None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)  # plain Python: json, re and typing only
        convert = getattr(module, "json_schema_to_gbnf", None)
        return convert if callable(convert) else None
    except Exception:  # noqa: BLE001 (a converter that cannot load leaves the plain JSON-object grammar)
        return None


def arguments_grammar(parameters: dict[str, Any]) -> str:
    """GBNF (rule `root`) for a tool's arguments: its JSON schema, or any JSON object."""
    convert = _converter()
    if convert is not None:
        try:
            return convert(json.dumps(parameters))
        except Exception:  # noqa: BLE001 (a schema the converter does not support: any object, checked after)
            pass
    return ANY_OBJECT


def _prefixed(grammar: str, prefix: str) -> list[str]:
    """The grammar's rules with every rule name (defined and used) given `prefix`, so that several
    grammars can share one file."""
    rules: list[tuple[str, str]] = []
    for line in grammar.splitlines():
        match = _RULE.match(line.strip())
        if match:
            rules.append((match.group(1), match.group(2)))
        elif line.strip() and not line.lstrip().startswith("#") and rules:
            rules[-1] = (rules[-1][0], rules[-1][1] + " " + line.strip())  # a rule continued on the next line
    names = {name for name, _ in rules}
    renamed = []
    for name, body in rules:
        tokens = [prefix + t if t in names else t for t in _TOKEN.findall(body)]
        renamed.append(f"{prefix}{name} ::= {''.join(tokens)}")
    return renamed


def _literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def call_grammar(options: ToolOptions) -> str:
    """The grammar that makes the reply a call of the offered tools, or "" when tool_choice forces none."""
    if options.choice not in ("required", "function") or not options.tools:
        return ""
    lines: list[str] = []
    calls: list[str] = []
    for index, tool in enumerate(options.tools):
        function = tool["function"]
        prefix = f"t{index}-"
        lines += _prefixed(arguments_grammar(function.get("parameters", {})), prefix)
        name = _literal(json.dumps(function["name"], ensure_ascii=False))
        lines.append(f'{prefix}call ::= "{{" space "\\"name\\"" space ":" space {name} space "," space '
                     f'"\\"arguments\\"" space ":" space {prefix}root "}}" space')
        calls.append(f"{prefix}call")
    lines.append("call ::= " + " | ".join(calls))
    lines.append('tagged ::= "<tool_call>" nl call nl "</tool_call>"')
    several = ' | tagged ( nl tagged )* | "[" space call ( "," space call )* "]" space' if options.parallel else ""
    lines.append(f"root ::= call | tagged{several}")
    lines.append('space ::= " "?')
    lines.append('nl ::= "\\n"?')
    return "\n".join(lines) + "\n"


def forced_calls(text: str, options: ToolOptions) -> tuple[ParsedCall, ...]:
    """The calls of a reply sampled under call_grammar: one bare JSON call, or (parallel) an array of them.
    Each must name an offered tool and fit its schema (bare_json_call); otherwise none."""
    if options.choice not in ("required", "function"):
        return ()
    schemas = {t["function"]["name"]: t["function"].get("parameters", {}) for t in options.tools}
    tagged = _TAGGED.findall(text)
    if tagged and not _TAGGED.sub("", text).strip():
        text = "[" + ",".join(tagged) + "]"
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    items = value if isinstance(value, list) and (options.parallel or len(value) == 1) else [value]
    calls = [bare_json_call(json.dumps(item, ensure_ascii=False), schemas) for item in items]
    return tuple(c for c in calls if c is not None) if calls and all(calls) else ()
