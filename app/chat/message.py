"""What a message is: a role and a list of typed parts, defined once for the whole app.

A part is one piece of what a message holds: text, the model's thinking, an image, a tool call
or a tool's result. Every other shape a message takes is made here, from a `Message`:

- the engine's `ChatMessage` (what the chat template and the prompt encoder read): `to_engine()`;
- an OpenAI chat message (the API server's answers and a remote engine's requests): `to_openai()`
  and `from_openai()`;
- the store's rows (one row per part, `kind` plus a JSON `data`): `part_to_row()`/`part_from_row()`;
- the exports (Markdown text and JSON objects): `parts_to_json()`/`parts_from_json()` and `text`.

A part kind this build does not know (a database or export from a newer Hearth) is kept as an
`UnknownPart`, shown as nothing and written back unchanged, so opening a newer file loses nothing.
Adding a part kind: see "Adding a feature that changes what a message holds" in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from app.engine.protocol import IMAGE_MARKER, ChatMessage

# What the model reads in place of a picture whose file is gone from the data folder (deleted by hand, or
# lost): the message still goes, and the chat says so (PICTURES_LEFT_OUT), rather than every send failing.
PICTURE_MISSING = "(a picture that is no longer available)"
PICTURES_LEFT_OUT = "A picture in this chat is no longer in the data folder: it was left out of what the model reads."

ROLES = ("system", "user", "assistant", "tool")
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class TextPart:
    """What the user wrote, or the model's answer."""

    kind: ClassVar[str] = "text"
    text: str

    def to_json(self) -> JsonObject:
        return {"text": self.text}


@dataclass(frozen=True)
class ThinkingPart:
    """A reply's reasoning, shown apart and sent back only where the template asks for it."""

    kind: ClassVar[str] = "thinking"
    text: str

    def to_json(self) -> JsonObject:
        return {"text": self.text}


@dataclass(frozen=True)
class ImagePart:
    """An image, stored once in the data folder by the SHA-256 of its bytes."""

    kind: ClassVar[str] = "image"
    sha256: str
    mime: str = "image/png"
    width: int = 0
    height: int = 0
    name: str = ""  # the file name it was attached as, for the user's eyes only

    def to_json(self) -> JsonObject:
        return {"sha256": self.sha256, "mime": self.mime, "width": self.width, "height": self.height,
                "name": self.name}


@dataclass(frozen=True)
class ToolCallPart:
    """The model asks for a tool: `arguments` is the JSON text the model wrote."""

    kind: ClassVar[str] = "tool_call"
    call_id: str
    name: str
    arguments: str = "{}"

    def to_json(self) -> JsonObject:
        return {"call_id": self.call_id, "name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class ToolResultPart:
    """What a tool answered to the call `call_id`."""

    kind: ClassVar[str] = "tool_result"
    call_id: str
    content: str
    is_error: bool = False
    seconds: float = 0.0  # how long the call took (0: not measured)

    def to_json(self) -> JsonObject:
        return {"call_id": self.call_id, "content": self.content, "is_error": self.is_error, "seconds": self.seconds}


@dataclass(frozen=True)
class TokenProbsPart:
    """How likely each token of a reply was (engine/token_probs.py), kept to be shown, never sent.

    `steps` is token_probs.probs_to_json's compact list. `forced_at` >= 0: the reply is a "what if",
    its token at that index picked by the user instead of the model (the earlier tokens are the
    reply it branched from)."""

    kind: ClassVar[str] = "token_probs"
    steps: list[Any] = field(default_factory=list)
    forced_at: int = -1

    def to_json(self) -> JsonObject:
        return {"steps": self.steps, "forced_at": self.forced_at}


@dataclass(frozen=True)
class UnknownPart:
    """A part kind from a newer Hearth: kept and written back as it was, shown as nothing."""

    kind_name: str
    data: JsonObject = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.kind_name

    def to_json(self) -> JsonObject:
        return dict(self.data)


Part = TextPart | ThinkingPart | ImagePart | ToolCallPart | ToolResultPart | TokenProbsPart | UnknownPart
KNOWN_PARTS: dict[str, type[Any]] = {cls.kind: cls for cls in
                                     (TextPart, ThinkingPart, ImagePart, ToolCallPart, ToolResultPart, TokenProbsPart)}
NOT_SENT = (TextPart, ThinkingPart, ToolCallPart, ToolResultPart, TokenProbsPart)  # to_openai's own fields


def part_from_json(kind: str, data: Mapping[str, Any]) -> Part:
    """A part from its kind and JSON fields; unknown kinds and fields that do not fit become UnknownPart."""
    cls = KNOWN_PARTS.get(kind)
    if cls is None:
        return UnknownPart(kind, dict(data))
    try:
        part: Part = cls(**data)
    except TypeError:  # a field this build does not know (a newer file): keep it whole
        return UnknownPart(kind, dict(data))
    return part


def parts_to_json(parts: Iterable[Part]) -> list[JsonObject]:
    """The parts as JSON objects, each with its `type` (the exports' and the store's form)."""
    return [{"type": part.kind, **part.to_json()} for part in parts]


def parts_from_json(items: object) -> tuple[Part, ...]:
    """Parts read back from `parts_to_json`; anything that is not a list of objects with a type is skipped."""
    if not isinstance(items, list):
        return ()
    parts = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("type"), str):
            data = {k: v for k, v in item.items() if k != "type"}
            parts.append(part_from_json(item["type"], data))
    return tuple(parts)


def part_to_row(part: Part) -> tuple[str, str]:
    """(kind, JSON data): how the store keeps one part."""
    return part.kind, json.dumps(part.to_json(), ensure_ascii=False)


def part_from_row(kind: str, data: str) -> Part:
    try:
        fields = json.loads(data)
    except json.JSONDecodeError:
        fields = {}
    return part_from_json(kind, fields if isinstance(fields, dict) else {})


def text_parts(content: str = "", reasoning: str = "") -> tuple[Part, ...]:
    """The parts of a plain message: its thinking (if any) first, then its text (always, even empty)."""
    thinking: tuple[Part, ...] = (ThinkingPart(reasoning),) if reasoning else ()
    return (*thinking, TextPart(content))


@dataclass(frozen=True)
class Message:
    """One message of a conversation, as stored, shown, exported and sent.

    `id` 0 is a message that is not stored (the CLI's, the API server's). `parent_id`, `chosen`,
    `alternative` and `alternatives` place it in the chat's tree of alternatives (store/branches.py).
    """

    id: int
    chat_id: int
    position: int
    role: str
    parts: tuple[Part, ...] = ()
    model: str = ""
    sampling: JsonObject = field(default_factory=dict)
    stats: JsonObject = field(default_factory=dict)
    complete: bool = True
    error: str = ""
    created: float = 0.0
    parent_id: int | None = None  # None: a first message
    chosen: bool = True  # the alternative shown at its turn
    alternative: int = 1  # which of its siblings this is (1-based, oldest first)
    alternatives: int = 1  # how many siblings it has, itself included

    TEXT_KINDS: ClassVar[tuple[str, ...]] = ("text",)

    @classmethod
    def plain(cls, role: str, content: str, reasoning: str = "", **values: Any) -> Message:
        """A message of text (and thinking) alone, not stored."""
        values.setdefault("id", 0)
        values.setdefault("chat_id", 0)
        values.setdefault("position", 0)
        return cls(role=role, parts=text_parts(content, reasoning), **values)

    # ------------------------------------------------------------ what it holds

    @property
    def content(self) -> str:
        """Its text: every text part, joined."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def reasoning(self) -> str:
        """Its thinking: every thinking part, joined."""
        return "".join(p.text for p in self.parts if isinstance(p, ThinkingPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        return tuple(p for p in self.parts if isinstance(p, ImagePart))

    @property
    def tool_calls(self) -> tuple[ToolCallPart, ...]:
        return tuple(p for p in self.parts if isinstance(p, ToolCallPart))

    @property
    def token_probs(self) -> TokenProbsPart | None:
        return next((p for p in self.parts if isinstance(p, TokenProbsPart)), None)

    def with_text(self, content: str | None = None, reasoning: str | None = None) -> Message:
        """The same message with its text and/or thinking replaced (other parts stay, in order)."""
        content = self.content if content is None else content
        reasoning = self.reasoning if reasoning is None else reasoning
        others = tuple(p for p in self.parts if not isinstance(p, (TextPart, ThinkingPart)))
        return replace(self, parts=text_parts(content, reasoning) + others)

    # ------------------------------------------------------------ the shapes it takes

    def to_engine(self, images: Callable[[str], bytes] | None = None) -> ChatMessage:
        """What the engine's template and encoder read.

        A "tool" message's text is the tool's answer; an assistant's calls go with it. With `images` (an
        image's bytes by its SHA-256), a message's images go with it, each marked in its text where it
        stands (nothing around it, as llama-server puts an OpenAI image part). Without it only the text goes.
        """
        calls = tuple((c.call_id, c.name, c.arguments) for c in self.tool_calls)
        results = [p for p in self.parts if isinstance(p, ToolResultPart)]
        if results:
            return ChatMessage(self.role, results[0].content, tool_call_id=results[0].call_id)
        text = self.content.replace(IMAGE_MARKER, "")
        if images is None or not self.images:
            return ChatMessage(self.role, text, self.reasoning, tool_calls=calls)
        pieces: list[str] = []
        found: list[bytes] = []
        for part in self.parts:
            if isinstance(part, TextPart):
                pieces.append(part.text.replace(IMAGE_MARKER, ""))
            elif isinstance(part, ImagePart):
                try:
                    found.append(images(part.sha256))
                    pieces.append(IMAGE_MARKER)
                except (KeyError, OSError):  # its file is gone: the model is told so rather than the send failing
                    pieces.append(PICTURE_MISSING)
        return ChatMessage(self.role, "".join(pieces), self.reasoning, tool_calls=calls, images=tuple(found))

    def to_openai(self) -> JsonObject:
        """An OpenAI chat message: plain string content when it is all text, content parts otherwise."""
        other = [p for p in self.parts if not isinstance(p, NOT_SENT)]
        message: JsonObject = {"role": self.role}
        if other:
            content: list[JsonObject] = [{"type": "text", "text": self.content}] if self.content else []
            content += [{"type": p.kind, **p.to_json()} for p in other]
            message["content"] = content
        else:
            message["content"] = self.content
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [{"id": c.call_id, "type": "function",
                                      "function": {"name": c.name, "arguments": c.arguments}}
                                     for c in self.tool_calls]
        results = [p for p in self.parts if isinstance(p, ToolResultPart)]
        if results:
            message["tool_call_id"] = results[0].call_id
            message["content"] = results[0].content
        return message

    @classmethod
    def from_openai(cls, role: str, content: str | Sequence[Part], reasoning: str = "") -> Message:
        """A message the API server parsed (roles and content already checked by server/requests.py)."""
        if isinstance(content, str):
            return cls.plain(role, content, reasoning)
        thinking: tuple[Part, ...] = (ThinkingPart(reasoning),) if reasoning else ()
        return cls(0, 0, 0, role, thinking + tuple(content))


def history_for_engine(system_prompt: str, messages: Iterable[Message],
                       images: Callable[[str], bytes] | None = None) -> list[ChatMessage]:
    """What the model is given: the system prompt (if any) and the messages, as the engine reads them
    (with their images when `images` gives their bytes)."""
    system = [ChatMessage("system", system_prompt.strip())] if system_prompt.strip() else []
    return system + [sent for m in messages for sent in tool_rounds(m, images)]


def tool_rounds(message: Message, images: Callable[[str], bytes] | None = None) -> list[ChatMessage]:
    """A message as the engine reads it. A reply that called tools keeps its calls and their results
    with its answer (one card, one alternative); the model is given them as an API client sends them:
    the assistant's calls, a tool message for each result, then the answer."""
    results = [p for p in message.parts if isinstance(p, ToolResultPart)]
    if message.role != "assistant" or not results:
        return [message.to_engine(images)]
    sent: list[ChatMessage] = []
    calls: list[ToolCallPart] = []
    for part in message.parts:
        if isinstance(part, ToolCallPart):
            calls.append(part)
        elif isinstance(part, ToolResultPart):
            if calls:  # a round's calls, then their results
                sent.append(ChatMessage("assistant", "", tool_calls=tuple((c.call_id, c.name, c.arguments)
                                                                          for c in calls)))
                calls = []
            sent.append(ChatMessage("tool", part.content, tool_call_id=part.call_id))
    return [*sent, ChatMessage("assistant", message.content, message.reasoning)]
