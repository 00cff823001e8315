"""Render a conversation with a chat template (Jinja) the way llama.cpp does.

llama.cpp's behaviour matched here: loop controls (`{% break %}`), the transformers
`{% generation %}` block, `raise_exception`, `strftime_now` and today's `date_string`,
`enable_thinking` true unless told otherwise, and a system message merged into the first
user turn ("SYSTEM\\nUSER") when the template refuses the system role.

`segments()` gives the rendered prompt as pieces, each marked as template text (special
tokens allowed) or message content (plain text), so user text never becomes control tokens.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
import jinja2.meta
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from app.engine.protocol import ChatMessage
from app.engine.template_budget import DEADLINE_S, TemplateError, TemplateLimitError, render_budget
from app.engine.template_checks import bounded_filter
from app.engine.template_sandbox import BoundedSandbox

__all__ = ["DEFAULT_TEMPLATE", "ChatTemplate", "Segment", "TemplateError", "TemplateLimitError"]

DEFAULT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

THINKING_CHOICES = ("default", "on", "off", "low", "medium", "high")
MAX_SOURCE_CHARS = 256 << 10
_PROBE = "\ue000hearth-system-probe\ue001"


class GenerationBlock(Extension):
    """`{% generation %}…{% endgeneration %}` (a transformers tag): renders its body."""

    tags = {"generation"}  # noqa: RUF012 (jinja2 declares it a plain attribute)

    def parse(self, parser: Parser) -> nodes.Scope:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


class _EmptyUndefined(jinja2.Undefined):
    """llama.cpp's Jinja treats an unset name (`tools`, `functions`…) as empty, also in `+`."""

    def __add__(self, other: Any) -> Any:
        return other

    __radd__ = __add__


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: Sequence[str] | None = None, sort_keys: bool = False) -> str:
    """llama.cpp's `tojson`: keys in their order, `<>&'` as written, ", " and ": " between items
    (jinja2's own sorts keys and escapes HTML, which changes every tool schema a template prints)."""
    item_sep, key_sep = (", " if indent is None else ","), ": "
    if separators:
        item_sep, key_sep = separators[0], separators[1] if len(separators) > 1 else key_sep
    return json.dumps(value, ensure_ascii=bool(ensure_ascii), indent=indent, separators=(item_sep, key_sep),
                      sort_keys=bool(sort_keys), default=str)


def _raise_exception(message: str) -> None:
    raise TemplateError(f"the chat template refused the conversation: {message}")


def _placeholder(index: int) -> str:
    return f"\ue000{index}\ue001"


@dataclass(frozen=True)
class Segment:
    text: str
    special: bool  # True: template text, tokenized with special-token parsing


@dataclass
class ChatTemplate:
    source: str
    bos_token: str = ""
    eos_token: str = ""
    origin: str = "gguf"  # "gguf", "file", "builtin:NAME", "completion" or "default"
    clock: Callable[[], datetime.datetime] = field(default=datetime.datetime.now, repr=False)
    deadline_s: float = DEADLINE_S  # each render; sizes are bounded too (template_budget.py)
    name: str = ""  # the file a "file" template was read from, for messages

    def __post_init__(self) -> None:
        env = BoundedSandbox(
            trim_blocks=True,
            lstrip_blocks=True,
            loader=jinja2.BaseLoader(),
            undefined=_EmptyUndefined,
            extensions=["jinja2.ext.loopcontrols", GenerationBlock],
        )
        env.globals["raise_exception"] = _raise_exception
        env.filters["tojson"] = bounded_filter("tojson", _tojson)
        # llama.cpp escapes nothing, so `safe` marks nothing: jinja2's Markup would escape whatever
        # plain text is added to it (Functionary v3.1 writes `"…"|safe + tool|tojson`)
        env.filters["safe"] = lambda value: value if isinstance(value, str) else str(value)
        env.globals["strftime_now"] = lambda fmt: self.clock().strftime(fmt)
        if len(self.source) > MAX_SOURCE_CHARS:  # compiling takes ~5 s a megabyte; real ones are ~20 KB
            raise self._limit_error(TemplateLimitError(
                f"it is {len(self.source):,} characters long (the limit is {MAX_SOURCE_CHARS:,})"))
        try:
            self._template = env.from_string(self.source)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"the chat template is not valid Jinja: {exc}") from exc
        except (RecursionError, SyntaxError, MemoryError):  # Python's own limits on nesting
            raise TemplateError("the chat template is not valid Jinja: it is nested too deeply") from None
        self.thinking_modes = _thinking_modes(env, self.source)
        self.supports_system = self._probe_system_role()
        self._object_arguments: bool | None = None  # probed when a past call is first rendered

    @classmethod
    def for_model(cls, gguf_template: str | None, bos_token: str, eos_token: str) -> ChatTemplate:
        if gguf_template:
            try:
                return cls(gguf_template, bos_token, eos_token, "gguf")
            except TemplateError:
                pass  # an unusable template falls back to the default, and says so via origin
        return cls(DEFAULT_TEMPLATE, bos_token, eos_token, "default")

    def _probe_system_role(self) -> bool:
        # llama.cpp's test: does a system message's text come out of the template?
        probe = [{"role": "system", "content": _PROBE}, {"role": "user", "content": "Hi"}]
        try:
            return _PROBE in self._render_dicts(probe, {}, True)
        except TemplateLimitError as exc:
            raise self._limit_error(exc) from None
        except Exception:  # noqa: BLE001 (a template that fails on a system message: it has no system role)
            return False

    @property
    def object_arguments(self) -> bool:
        """llama.cpp's test, roughly: does a past call's arguments object come out of the template?
        Where not (Functionary v3.2 adds them to text), calls go in with their arguments as JSON text."""
        if self._object_arguments is None:
            self._object_arguments = self._probe_object_arguments()
        return self._object_arguments

    def _probe_object_arguments(self) -> bool:
        marker = "hearth-arguments-probe"  # ASCII: a template's tojson may escape anything else
        call = {"id": "call00001", "type": "function", "function": {"name": "tool1", "arguments": {"arg": marker}}}
        probe: list[dict[str, Any]] = [
            {"role": "user", "content": "User message"}, {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "content": "Tool response", "tool_call_id": "call00001"}]
        try:
            return marker in self._render_dicts(probe, {}, False)
        except Exception:  # noqa: BLE001 (one that fails on an arguments object takes text; limits: the render says)
            return False

    def describe(self) -> str:
        """Which template this is, in words."""
        if self.origin == "file":
            return f"the chat template file {self.name}" if self.name else "the chat template file"
        if self.origin.startswith("builtin:"):
            return f"the built-in {self.origin[8:]} chat template"
        if self.origin == "gguf":
            return "the model's own chat template"
        return f"the {self.origin} chat template"

    def _limit_error(self, exc: TemplateLimitError) -> TemplateLimitError:
        advice = ("choose another template file" if self.origin == "file" else
                  "load the model with a built-in template or your own (--chat-template-file FILE, "
                  "or Chat template in the load settings)")
        return TemplateLimitError(f"{self.describe()} was stopped: {exc.reason}; {advice}", exc.reason)

    def kwargs_for(self, thinking: str) -> dict[str, Any]:
        if thinking in ("on", "off"):
            return {"enable_thinking": thinking == "on"}
        if thinking in ("low", "medium", "high"):
            return {"reasoning_effort": thinking}
        return {}

    def _render_dicts(self, payload: list[dict[str, Any]], kwargs: dict[str, Any], add_generation_prompt: bool,
                      tools: Sequence[dict[str, Any]] = ()) -> str:
        now = self.clock()
        context = {
            "messages": payload,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
            "add_generation_prompt": add_generation_prompt,
            "enable_thinking": True,
            "date_string": now.strftime("%d %b %Y"),
            "datetime": now.strftime("%b %d %Y"),  # llama.cpp's extra context, e.g. firefunction v2
            # llama-server passes preserve_reasoning=true by default, which sets these four:
            # past turns keep their thinking block (DeepSeek V4, Laguna and others read them)
            "preserve_thinking": True,
            "clear_thinking": False,
            "truncate_history_thinking": False,
            "drop_thinking": False,
            # functions, documents, custom_tools: left unset, as llama.cpp does; tools only when offered
        }
        if tools:  # llama-server passes the request's tools as given (OpenAI's shape), only when there are some
            # a deep copy: a template may append to or pop from lists (Kimi K2's do), never the request's own
            context["tools"] = copy.deepcopy(list(tools))
        context.update(kwargs)
        size = sum(len(m.get("content") or "") + len(m.get("reasoning_content") or "") for m in payload)
        size += sum(len(json.dumps(tool)) for tool in tools)
        with render_budget(self.deadline_s, size):
            return self._template.render(**context)

    def _payload(self, messages: Sequence[ChatMessage], contents: Sequence[str]) -> list[dict[str, Any]]:
        payload: list[dict[str, Any]] = []
        for message, content in zip(messages, contents):
            item: dict[str, Any] = {"role": message.role, "content": content}
            if message.reasoning:
                item["reasoning_content"] = message.reasoning
                if "<|channel|>" in self.source:  # llama-server's gpt-oss handler: its template reads `thinking`
                    item["thinking"] = message.reasoning
                    if message.tool_calls:
                        del item["content"]
            if message.tool_calls:
                item["tool_calls"] = [_tool_call_dict(*call, self.object_arguments) for call in message.tool_calls]
            if message.tool_call_id:
                item["tool_call_id"] = message.tool_call_id
            payload.append(item)
        if not self.supports_system and len(payload) > 0 and payload[0]["role"] == "system":
            first = payload.pop(0)
            if payload:  # llama.cpp: system text, a newline, then the first message's text
                payload[0] = {**payload[0], "content": first["content"] + "\n" + payload[0]["content"]}
        return payload

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True,
               thinking: str = "default", tools: Sequence[dict[str, Any]] = ()) -> str:
        return self._render(messages, [m.content for m in messages], add_generation_prompt, thinking, tools)

    def _render(self, messages: Sequence[ChatMessage], contents: Sequence[str], add_generation_prompt: bool,
                thinking: str, tools: Sequence[dict[str, Any]] = ()) -> str:
        try:
            return self._render_dicts(self._payload(messages, contents), self.kwargs_for(thinking),
                                      add_generation_prompt, tools)
        except TemplateLimitError as exc:
            raise self._limit_error(exc) from None
        except TemplateError:
            raise
        except MemoryError:
            raise self._limit_error(TemplateLimitError("it ran out of memory")) from None
        except Exception as exc:  # a template bug must not take the engine down
            raise TemplateError(f"the chat template failed: {exc or type(exc).__name__}") from exc

    def segments(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True,
                 thinking: str = "default", tools: Sequence[dict[str, Any]] = ()) -> list[Segment]:
        """The rendered prompt split into template text and message contents (same text as render)."""
        text = self.render(messages, add_generation_prompt, thinking, tools)
        contents = [m.content for m in messages]
        marked = self._render(messages, [_placeholder(i) for i in range(len(messages))],
                              add_generation_prompt, thinking, tools)
        pieces = _split_on_placeholders(marked, contents)
        if pieces is not None and "".join(p.text for p in pieces) == text:
            return pieces
        return _split_by_search(text, contents)


def _tool_call_dict(call_id: str, name: str, arguments: str, as_object: bool = True) -> dict[str, Any]:
    """A past call as llama-server gives it to templates: arguments as an object where they parse
    and the template reads objects."""
    try:
        parsed: Any = json.loads(arguments) if as_object else arguments
    except json.JSONDecodeError:
        parsed = arguments
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": parsed}}
    if call_id:
        call["id"] = call_id
    return call


def _split_on_placeholders(marked: str, contents: Sequence[str]) -> list[Segment] | None:
    pieces: list[Segment] = []
    rest = marked
    while "\ue000" in rest:
        start = rest.index("\ue000")
        end = rest.find("\ue001", start)
        if end < 0:
            return None
        label = rest[start + 1 : end]
        if not label.isdigit() or int(label) >= len(contents):
            return None  # the template changed a placeholder: fall back to searching
        if start:
            pieces.append(Segment(rest[:start], True))
        pieces.append(Segment(contents[int(label)], False))
        rest = rest[end + 1 :]
    if rest:
        pieces.append(Segment(rest, True))
    return [p for p in pieces if p.text]


def _split_by_search(text: str, contents: Sequence[str]) -> list[Segment]:
    """Fallback for templates that rewrite contents: find each content in order."""
    pieces: list[Segment] = []
    cursor = 0
    for content in contents:
        for candidate in (content, content.strip()):
            at = text.find(candidate, cursor) if candidate else -1
            if at >= 0:
                if at > cursor:
                    pieces.append(Segment(text[cursor:at], True))
                pieces.append(Segment(candidate, False))
                cursor = at + len(candidate)
                break
    if cursor < len(text):
        pieces.append(Segment(text[cursor:], True))
    return pieces


def _thinking_modes(env: jinja2.Environment, source: str) -> tuple[str, ...]:
    """Which thinking switch the template reads, found from the names it uses."""
    try:  # parsed by the sandbox: jinja2's analysis folds constants, which must stay bounded
        names = jinja2.meta.find_undeclared_variables(env.parse(source))
    except jinja2.TemplateError:
        return ()
    if "reasoning_effort" in names:
        return ("low", "medium", "high")
    if "enable_thinking" in names:
        return ("on", "off")
    return ()
