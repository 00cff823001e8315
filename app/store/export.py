"""Export a chat as Markdown or JSON."""

from __future__ import annotations

import json

from app.store.conversations import ChatRecord, MessageRecord

ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System"}


def chat_to_markdown(chat: ChatRecord, messages: list[MessageRecord]) -> str:
    parts = [f"# {chat.title}\n"]
    if chat.system_prompt:
        parts.append(f"> **System prompt:** {chat.system_prompt}\n")
    for m in messages:
        title = ROLE_TITLES.get(m.role, m.role)
        if m.role == "assistant" and m.model:
            title += f" ({m.model})"
        thinking = _thinking_block(m) if m.reasoning.strip() else ""
        parts.append(f"## {title}\n\n{thinking}{m.content.strip()}\n")
    return "\n".join(parts)


def _thinking_block(m: MessageRecord) -> str:
    """A collapsible block (GitHub and most Markdown viewers fold <details>)."""
    summary = "Thinking"
    tokens, seconds = m.stats.get("reasoning_tokens", 0), m.stats.get("reasoning_s", 0.0)
    if tokens:
        summary += f" ({tokens} tokens, {seconds:.1f} s)"
    return f"<details>\n<summary>{summary}</summary>\n\n{m.reasoning.strip()}\n\n</details>\n\n"


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
