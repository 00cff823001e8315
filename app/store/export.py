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
        parts.append(f"## {title}\n\n{m.content.strip()}\n")
    return "\n".join(parts)


def chat_to_json(chat: ChatRecord, messages: list[MessageRecord]) -> str:
    return json.dumps(
        {
            "title": chat.title,
            "system_prompt": chat.system_prompt,
            "model_path": chat.model_path,
            "sampling": chat.sampling,
            "overflow": chat.overflow,
            "messages": [
                {"role": m.role, "content": m.content, "model": m.model, "sampling": m.sampling, "stats": m.stats,
                 "complete": m.complete, "error": m.error, "created": m.created}
                for m in messages
            ],
        },
        indent=2,
        ensure_ascii=False,
    )
