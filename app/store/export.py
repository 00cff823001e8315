"""Export a chat as Markdown or JSON, with every alternative reply and edited question.

Both take the chat's messages as `store.all_messages(chat_id)` (every branch) or as the
shown conversation alone. Markdown shows the conversation on screen and, at a turn with
alternatives, the others folded under it; JSON keeps the whole tree (`import_chat` reads it back).
"""

from __future__ import annotations

import json
import re

from app.store import branches
from app.store.conversations import ChatRecord, MessageRecord

FORMAT = 2  # 1: no alternatives, no ids

ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System"}
# A line in a message that would read as one of our turn headings.
TURN_HEADING = re.compile(r"^(\s{0,3})(#{1,6}\s+(?:You|Assistant|System)\b)", re.MULTILINE)


def one_line(text: str) -> str:
    """Titles and model names are headings: their line breaks become spaces, so they cannot start a turn."""
    return " ".join(text.split())


def quoted(text: str) -> str:
    """Every line of `text` inside the block quote, so none of them can be read as a heading."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def chat_to_markdown(chat: ChatRecord, messages: list[MessageRecord]) -> str:
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
            parts.append(_other_alternatives(others, m.alternatives))
    return "\n".join(parts)


def _title(m: MessageRecord) -> str:
    title = ROLE_TITLES.get(m.role, one_line(m.role))
    if m.role == "assistant" and m.model:
        title += f" ({one_line(m.model)})"
    return title


def _body(m: MessageRecord) -> str:
    body = TURN_HEADING.sub(r"\1\\\2", m.content.strip())
    thinking = _thinking_block(m) if m.reasoning.strip() else ""
    return f"{thinking}{body}"


def _other_alternatives(others: list[tuple[int, MessageRecord]], total: int) -> str:
    """The alternatives not chosen at a turn, folded (their own continuations are in the JSON export)."""
    noun = "alternative" if len(others) == 1 else "alternatives"
    lines = [f"<details>\n<summary>{len(others)} other {noun} (not chosen)</summary>\n"]
    for number, m in others:
        lines.append(f"### {_title(m)} · alternative {number} of {total}\n\n{_body(m)}\n")
    lines.append("</details>\n")
    return "\n".join(lines)


def _thinking_block(m: MessageRecord) -> str:
    """A collapsible block (GitHub and most Markdown viewers fold <details>)."""
    summary = "Thinking"
    tokens, seconds = m.stats.get("reasoning_tokens", 0), m.stats.get("reasoning_s", 0.0)
    if tokens:
        summary += f" ({tokens} tokens, {seconds:.1f} s)"
    body = TURN_HEADING.sub(r"\1\\\2", m.reasoning.strip())
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>\n\n"


def chat_to_json(chat: ChatRecord, messages: list[MessageRecord]) -> str:
    """`messages` is the conversation on screen; `alternatives` the messages off it, each naming its parent."""
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
            "messages": [_message(m) for m in shown],
            "alternatives": [_message(m) for m in sorted(messages, key=lambda m: m.id) if m.id not in on_path],
        },
        indent=2,
        ensure_ascii=False,
    )


def _message(m: MessageRecord) -> dict:
    return {"id": m.id, "parent": m.parent_id, "role": m.role, "content": m.content, "reasoning": m.reasoning,
            "model": m.model, "sampling": m.sampling, "stats": m.stats, "complete": m.complete, "error": m.error,
            "created": m.created}
