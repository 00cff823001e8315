"""What a remote OpenAI-compatible server sent, checked for shape (no Qt).

A server may be broken or hostile: every field Hearth reads is checked for its type here, and
a reply that cannot be read becomes one EngineError sentence. Required parts (`choices`, each
choice's `delta`, its text) must have the right type; optional metadata (`usage`,
`finish_reason`, `/props`) that is malformed is treated as absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.engine.protocol import EngineError, ErrorKind
from app.load_limits import CONTEXT_MAX as MAX_CONTEXT  # a context size past this is not believed


def plain(text: str, limit: int = 300) -> str:
    """Server text for a one-line message: control characters (newlines, terminal escapes) become
    spaces, runs of spaces one, and at most `limit` characters are kept."""
    cleaned = "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text[: limit * 4])
    return " ".join(cleaned.split())[:limit]


def unreadable(base_url: str, what: str) -> EngineError:
    return EngineError(ErrorKind.BAD_REQUEST, f"{base_url} sent a reply Hearth cannot read: {what}")


def model_ids(data: object, base_url: str) -> list[str]:
    """The ids in a /v1/models answer ({"data": [{"id": ...}, ...]}); entries without a string id, or
    with a control character in it, are skipped."""
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise EngineError(ErrorKind.BAD_REQUEST, f"{base_url}/v1/models has no model list")
    return [m["id"] for m in entries if isinstance(m, dict) and isinstance(m.get("id"), str)
            and m["id"] and plain(m["id"], len(m["id"])) == m["id"]]  # no control characters in a name


def context_size(props: object) -> int:
    """llama-server's context size from /props; 0 (unknown) when it is missing or not a believable number."""
    settings = props.get("default_generation_settings") if isinstance(props, dict) else None
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    tokens = count(n_ctx)
    return tokens if tokens is not None and 0 < tokens <= MAX_CONTEXT else 0


def count(value: object) -> int | None:
    """A token count from the server, or None when it is not a non-negative integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass
class Chunk:
    """One streamed payload: its text pieces, and what it says about the end of the reply."""

    pieces: list[tuple[str, str]] = field(default_factory=list)  # (content, reasoning) per choice
    finish: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def read_chunk(payload: dict[str, Any], base_url: str) -> Chunk:
    """The parts of a chat completion chunk Hearth uses; EngineError when its shape is wrong."""
    chunk = Chunk(usage=_usage(payload.get("usage")))
    if "error" in payload:
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else error
        chunk.error = plain(str(message if message is not None else error))
        return chunk
    choices = payload.get("choices")
    if choices is None:
        return chunk
    if not isinstance(choices, list):
        raise unreadable(base_url, "'choices' is not a list")
    for choice in choices:
        if not isinstance(choice, dict):
            raise unreadable(base_url, "a choice is not an object")
        delta = choice.get("delta")
        if delta is None:
            delta = {}
        if not isinstance(delta, dict):
            raise unreadable(base_url, "a choice's 'delta' is not an object")
        content = _text(delta.get("content"), "content", base_url)
        reasoning = _text(delta.get("reasoning_content"), "reasoning_content", base_url) or \
            _text(delta.get("reasoning"), "reasoning", base_url)
        chunk.pieces.append((content, reasoning))
        finish = choice.get("finish_reason")
        if isinstance(finish, str) and finish:
            chunk.finish = finish
        elif finish is not None and finish != "":
            chunk.finish = "stop"  # a finish of the wrong type still ends the reply
    return chunk


def _text(value: object, name: str, base_url: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise unreadable(base_url, f"a delta's '{name}' is not text")
    return value


def _usage(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    usage = {k: n for k in ("prompt_tokens", "completion_tokens") if (n := count(value.get(k))) is not None}
    details = value.get("prompt_tokens_details")
    cached = count(details.get("cached_tokens")) if isinstance(details, dict) else None
    if cached is not None:
        usage["cached_tokens"] = cached
    return usage
