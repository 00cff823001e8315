"""Export a chat as Markdown or JSON, with every alternative reply and edited question.

Both take the chat's messages as `store.all_messages(chat_id)` (every branch) or as the
shown conversation alone. Markdown shows the conversation on screen and, at a turn with
alternatives, the others folded under it; JSON keeps the whole tree (`import_chat` reads it back).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from app.chat.message import ImagePart, Message, parts_to_json
from app.formatting import counted
from app.store import branches
from app.store.records import ChatRecord

# 1: a list of messages, no ids; 2: ids, parents and alternatives, text in `content` and `reasoning`;
# 3: each message's `parts` (app.chat.message.parts_to_json), with `content` (its text) kept for readers.
FORMAT = 3

PICTURES_DIR = "images"  # a Markdown export's pictures, in this folder beside the .md file
PICTURE_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/bmp": ".bmp",
                    "image/webp": ".webp"}
ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System"}
# A line in a message that would read as one of our turn headings.
TURN_HEADING = re.compile(r"^(\s{0,3})(#{1,6}\s+(?:You|Assistant|System)\b)", re.MULTILINE)


def one_line(text: str) -> str:
    """Titles and model names are headings: their line breaks become spaces, so they cannot start a turn."""
    return " ".join(text.split())


def escape_headings(text: str) -> str:
    """`text` stripped, with any line that would read as one of our turn headings escaped."""
    return TURN_HEADING.sub(r"\1\\\2", text.strip())


def quoted(text: str) -> str:
    """Every line of `text` inside the block quote, so none of them can be read as a heading."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def chat_to_markdown(chat: ChatRecord, messages: list[Message]) -> str:
    parts = [f"# {one_line(chat.title)}\n"]
    if chat.system_prompt.strip():
        parts.append(quoted(f"**System prompt:** {chat.system_prompt.strip()}") + "\n")
    groups = branches.children(messages)
    for m in branches.shown_path(messages):
        title = _title(m)
        if m.alternatives > 1:
            title += f" · alternative {m.alternative} of {m.alternatives}, chosen"
        parts.append(f"## {title}\n\n{_body(m)}\n")
        others = [(i, s) for i, s in enumerate(groups[m.parent_id], 1) if s.id != m.id]
        if others:
            parts.append(_other_alternatives(messages, groups, others, m.alternatives))
    return "\n".join(parts)


def _title(m: Message) -> str:
    title = ROLE_TITLES.get(m.role, one_line(m.role))
    if m.role == "assistant" and m.model:
        title += f" ({one_line(m.model)})"
    return title


def _body(m: Message) -> str:
    body = escape_headings(m.content)
    thinking = _thinking_block(m) if m.reasoning.strip() else ""
    pictures = "".join(f"![{one_line(p.name) or 'picture'}]({picture_file(p)})\n\n" for p in m.images)
    return f"{thinking}{pictures}{body}"


def picture_file(part: ImagePart) -> str:
    """Where a Markdown export's picture is, beside the .md file: one folder, files named by content hash."""
    return f"{PICTURES_DIR}/{part.sha256}{PICTURE_SUFFIXES.get(part.mime, '')}"


def _other_alternatives(messages: list[Message], groups: dict[int | None, list[Message]],
                        others: list[tuple[int, Message]],
                        total: int, seen: set[int] | None = None) -> str:
    """The alternatives not chosen at a turn, folded, each with the turns that follow it (and, folded
    again inside, the alternatives those turns have): no branch of the chat is left out."""
    seen = set() if seen is None else seen
    noun = "alternative" if len(others) == 1 else "alternatives"
    lines = [f"<details>\n<summary>{len(others)} other {noun} (not chosen)</summary>\n"]
    for number, first in others:
        for depth, m in enumerate(branches.branch_from(messages, first)):
            if m.id in seen:  # a loop in a damaged chat: each message is written once
                break
            seen.add(m.id)
            siblings = groups[m.parent_id]
            label = f" · alternative {number} of {total}" if depth == 0 else (
                f" · alternative {siblings.index(m) + 1} of {len(siblings)}, chosen" if len(siblings) > 1 else "")
            lines.append(f"### {_title(m)}{label}\n\n{_body(m)}\n")
            if depth and len(siblings) > 1:
                rest = [(i, s) for i, s in enumerate(siblings, 1) if s.id != m.id and s.id not in seen]
                if rest:
                    lines.append(_other_alternatives(messages, groups, rest, len(siblings), seen))
    lines.append("</details>\n")
    return "\n".join(lines)


def _thinking_block(m: Message) -> str:
    """A collapsible block (GitHub and most Markdown viewers fold <details>)."""
    summary = "Thinking"
    tokens, seconds = m.stats.get("reasoning_tokens", 0), m.stats.get("reasoning_s", 0.0)
    if tokens:
        summary += f" ({counted(tokens, 'token')}, {seconds:.1f} s)"
    body = escape_headings(m.reasoning)
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>\n\n"


def chat_to_json(chat: ChatRecord, messages: list[Message], images: Callable[[str], bytes] | None = None) -> str:
    """`messages` is the conversation on screen; `alternatives` the messages off it, each naming its parent.
    With `images` (a picture's bytes by SHA-256) each picture is embedded in its part as base64 `data`."""
    shown = branches.shown_path(messages)
    on_path = {m.id for m in shown}
    return json.dumps(
        {
            "format": FORMAT,
            "title": chat.title,
            "system_prompt": chat.system_prompt,
            "model_path": chat.model_path,
            "sampling": chat.sampling,
            "overflow": chat.overflow,
            "thinking": chat.thinking,
            "messages": [_message(m, images) for m in shown],
            "alternatives": [_message(m, images) for m in sorted(messages, key=lambda m: m.id) if m.id not in on_path],
        },
        indent=2,
        ensure_ascii=False,
    )


def _message(m: Message, images: Callable[[str], bytes] | None = None) -> dict[str, Any]:
    parts = parts_to_json(m.parts)
    for part in parts if m.images else ():
        if part["type"] == "image" and images is not None:
            try:
                part["data"] = base64.b64encode(images(part["sha256"])).decode("ascii")
            except (KeyError, OSError):
                pass  # a picture gone from the data folder: the part still names it
    return {"id": m.id, "parent": m.parent_id, "role": m.role, "content": m.content, "parts": parts,
            "model": m.model, "sampling": m.sampling, "stats": m.stats, "complete": m.complete, "error": m.error,
            "created": m.created, "chosen": m.chosen}
