"""Parse and check OpenAI-style request bodies into engine requests (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.chat.conversation import Conversation
from app.chat.images import MemoryImages
from app.chat.message import Message, Part, TextPart
from app.engine.protocol import NO_VISION
from app.engine.sampling import MAX_TOP_LOGPROBS, SamplingParams
from app.server import tool_requests as tr
from app.server.tool_grammar import call_grammar
from app.server.tool_requests import ToolOptions, ToolRequestError

ROLES = ("system", "user", "assistant", "tool")


class BadRequest(Exception):
    """A field the server cannot use: answered with 400 and this message."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True)
class ChatBody:
    conversation: Conversation  # the request's messages: not stored, its history is what the engine is given
    sampling: SamplingParams
    stream: bool
    include_usage: bool
    tools: ToolOptions = field(default_factory=ToolOptions)  # the offered tools and how they may be called


@dataclass(frozen=True)
class CompletionBody:
    prompt: str
    sampling: SamplingParams
    stream: bool
    include_usage: bool


def _number(body: dict, name: str, low: float, high: float, integer: bool = False):
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        kind = "an integer" if integer else "a number"
        raise BadRequest(f"'{name}' must be {kind}", name)
    if not low <= value <= high:
        raise BadRequest(f"'{name}' must be between {low:g} and {high:g}", name)
    return value


def _text(value: str, where: str, param: str) -> str:
    """`value` if it is Unicode text; JSON's "\\ud800" escapes can give lone surrogates, which are not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"{where} is not valid Unicode text: it holds a lone surrogate "
                         f"(\\u{ord(value[exc.start]):04x}) at character {exc.start}", param) from None
    return value


def _stop(body: dict) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (_text(stop, "'stop'", "stop"),)
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop) and len(stop) <= 4:
        return tuple(_text(s, f"stop[{i}]", "stop") for i, s in enumerate(stop))
    raise BadRequest("'stop' must be a string or a list of up to 4 strings", "stop")


def sampling_from(body: dict) -> SamplingParams:
    """OpenAI sampling fields (plus top_k, min_p, repeat_penalty) over neutral defaults."""
    # Neutral defaults, as OpenAI's API has them: no top-k, min-p or repeat penalty unless asked.
    sampling = SamplingParams(temperature=1.0, top_p=1.0, top_k=0, min_p=0.0, repeat_penalty=1.0, max_tokens=0)
    values = {
        "temperature": _number(body, "temperature", 0, 2),
        "top_p": _number(body, "top_p", 0, 1),
        "top_k": _number(body, "top_k", 0, 1_000_000, integer=True),
        "min_p": _number(body, "min_p", 0, 1),
        "repeat_penalty": _number(body, "repeat_penalty", 0.5, 2.5),
        "presence_penalty": _number(body, "presence_penalty", -2, 2),
        "frequency_penalty": _number(body, "frequency_penalty", -2, 2),
        "seed": _number(body, "seed", -(2**63), 2**63 - 1, integer=True),
    }
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        values["max_tokens"] = _number({"max_tokens": max_tokens}, "max_tokens", 1, 10_000_000, integer=True)
    if values["seed"] is not None:
        values["seed"] = values["seed"] % (2**32) if values["seed"] >= 0 else -1
    n = body.get("n", 1)
    if n != 1:
        raise BadRequest("only 'n': 1 is supported", "n")
    return replace(sampling, stop=_stop(body), **{k: v for k, v in values.items() if v is not None})


def chat_top_logprobs(body: dict) -> int:
    """Chat's `logprobs: true` and `top_logprobs: N` as SamplingParams.top_logprobs (-1: not asked)."""
    asked = body.get("logprobs")
    if asked is not None and not isinstance(asked, bool):
        raise BadRequest("'logprobs' must be true or false", "logprobs")
    top = _number(body, "top_logprobs", 0, MAX_TOP_LOGPROBS, integer=True)
    if top is not None and not asked:
        raise BadRequest("'top_logprobs' needs 'logprobs': true", "top_logprobs")
    return (top or 0) if asked else -1


def completion_top_logprobs(body: dict) -> int:
    """Completions' `logprobs: N` (alternatives per token) as SamplingParams.top_logprobs (-1: not asked)."""
    top = _number(body, "logprobs", 0, MAX_TOP_LOGPROBS, integer=True)
    return -1 if top is None else top


def _stream_flags(body: dict) -> tuple[bool, bool]:
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("'stream' must be true or false", "stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise BadRequest("'stream_options' must be an object", "stream_options")
    return stream, bool(options.get("include_usage", False))


def _content(value, index: int, images: MemoryImages | None = None, allow_urls: bool = False) -> str | list[Part]:
    if isinstance(value, str):
        return _text(value, f"messages[{index}].content", "messages")
    if value is None:
        return ""
    if isinstance(value, list):  # the content-parts form: text parts, and image_url parts (server/images.py)
        parts: list[Part] = []
        for part in value:
            if isinstance(part, dict) and part.get("type") == "image_url" and images is not None:
                parts.append(_image(part, index, images, allow_urls))
                continue
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise BadRequest(f"messages[{index}].content: only text and image_url parts are supported", "messages")
            parts.append(TextPart(_text(part["text"], f"messages[{index}].content", "messages")))
        if not any(not isinstance(p, TextPart) for p in parts):
            return "".join(p.text for p in parts if isinstance(p, TextPart))
        return parts
    raise BadRequest(f"messages[{index}].content must be a string", "messages")


def _image(part: dict, index: int, images: MemoryImages, allow_urls: bool) -> Part:
    from app.server.images import ImageRefused, image_from_part

    try:
        return image_from_part(part, images, allow_urls)
    except ImageRefused as exc:
        raise BadRequest(f"messages[{index}].content: {exc}", "messages") from None


def parse_chat(body: object, allow_image_urls: bool = False, sees_images: bool = True) -> ChatBody:
    """The request as a conversation; with image parts, their bytes go with it (refused with one sentence
    when the model has no projector: `sees_images`)."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list", "messages")
    parsed = []
    images = MemoryImages()
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{i}] must be an object", "messages")
        role = message.get("role")
        if role == "developer":
            role = "system"
        if role not in ROLES:
            raise BadRequest(f"messages[{i}].role must be one of system, user, assistant, tool", "messages")
        try:
            parsed.append(_message(role, message, i, images, allow_image_urls))
        except ToolRequestError as exc:
            raise BadRequest(exc.message, exc.param) from None
    if not sees_images and any(m.images for m in parsed):
        raise BadRequest(NO_VISION, "messages")
    try:
        tools = tr.parse_tool_options(body)
    except ToolRequestError as exc:
        raise BadRequest(exc.message, exc.param) from None
    stream, include_usage = _stream_flags(body)
    # tool_choice "required" or a named function: a grammar makes the reply a call (tool_grammar.py)
    sampling = replace(sampling_from(body), top_logprobs=chat_top_logprobs(body), grammar=call_grammar(tools))
    conversation = Conversation.of(parsed, sampling=sampling)
    conversation.images = images.read
    return ChatBody(conversation, sampling, stream, include_usage, tools)


def _message(role: str, message: dict, index: int, images: MemoryImages, allow_urls: bool) -> Message:
    content = _content(message.get("content"), index, images, allow_urls)
    text = content if isinstance(content, str) else "".join(p.text for p in content if isinstance(p, TextPart))
    if role == "tool":
        return tr.tool_message(message, text, index)
    calls = tr.assistant_calls(message, index) if role == "assistant" else ()
    return tr.assistant_message(text, calls) if calls else Message.from_openai(role, content)


def parse_completion(body: object) -> CompletionBody:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise BadRequest("'prompt' must be a non-empty string", "prompt")
    _text(prompt, "'prompt'", "prompt")
    stream, include_usage = _stream_flags(body)
    sampling = replace(sampling_from(body), top_logprobs=completion_top_logprobs(body))
    if "max_tokens" not in body:
        sampling = replace(sampling, max_tokens=16)  # OpenAI's default for completions
    return CompletionBody(prompt, sampling, stream, include_usage)
