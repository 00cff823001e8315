"""Export a chat as Markdown or JSON."""

from __future__ import annotations

import json
import re

from app.store.conversations import ChatRecord, MessageRecord

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
    for m in messages:
        title = ROLE_TITLES.get(m.role, one_line(m.role))
        if m.role == "assistant" and m.model:
            title += f" ({one_line(m.model)})"
        body = TURN_HEADING.sub(r"\1\\\2", m.content.strip())
        thinking = _thinking_block(m) if m.reasoning.strip() else ""
        parts.append(f"## {title}\n\n{thinking}{body}\n")
    return "\n".join(parts)


def _thinking_block(m: MessageRecord) -> str:
    """A collapsible block (GitHub and most Markdown viewers fold <details>)."""
    summary = "Thinking"
    tokens, seconds = m.stats.get("reasoning_tokens", 0), m.stats.get("reasoning_s", 0.0)
    if tokens:
        summary += f" ({tokens} tokens, {seconds:.1f} s)"
    body = TURN_HEADING.sub(r"\1\\\2", m.reasoning.strip())
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>\n\n"


def chat_to_json(chat: ChatRecord, messages: list[MessageRecord]) -> str:
    return json.dumps(
        {
            "title": chat.title,
            "system_prompt": chat.system_prompt,
            "model_path": chat.model_path,
            "sampling": chat.sampling,
            "overflow": chat.overflow,
            "thinking": chat.thinking,
            "messages": [
                {"role": m.role, "content": m.content, "reasoning": m.reasoning, "model": m.model,
                 "sampling": m.sampling, "stats": m.stats,
                 "complete": m.complete, "error": m.error, "created": m.created}
                for m in messages
            ],
        },
        indent=2,
        ensure_ascii=False,
    )
