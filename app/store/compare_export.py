"""Export a comparison as Markdown: for each prompt, a table of every column's numbers, then the replies."""

from __future__ import annotations

from app.chat.message import Message
from app.formatting import human_bytes
from app.store.comparisons import ComparisonRecord
from app.store.export import escape_headings, one_line, quoted


def comparison_to_markdown(record: ComparisonRecord, columns: list[tuple[str, list[Message]]]) -> str:
    """`columns`: (model label, the column's conversation as shown) in column order."""
    parts = [f"# {one_line(record.title)}\n"]
    turns = max((sum(m.role == "user" for m in messages) for _label, messages in columns), default=0)
    for turn in range(turns):
        rows = [(label, _turn(messages, turn)) for label, messages in columns]
        prompt = next((user.content for _label, (user, _reply) in rows if user is not None), "")
        parts.append(f"## Prompt {turn + 1}\n\n{quoted(prompt.strip())}\n")
        parts.append(_table([(label, reply) for label, (_user, reply) in rows]))
        for label, (_user, reply) in rows:
            body = escape_headings(reply.content) if reply is not None else "*(no reply)*"
            if reply is not None and reply.error:
                body += f"\n\n*{one_line(reply.error)}*"
            parts.append(f"### {one_line(label)}\n\n{body}\n")
    return "\n".join(parts)


def _turn(messages: list[Message], turn: int) -> tuple[Message | None, Message | None]:
    """The `turn`-th user message of a conversation and the reply after it."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if turn >= len(users):
        return None, None
    i = users[turn]
    reply = messages[i + 1] if i + 1 < len(messages) and messages[i + 1].role == "assistant" else None
    return messages[i], reply


def _table(rows: list[tuple[str, Message | None]]) -> str:
    lines = ["| Model | First token | Speed | Tokens | Stop | Context used | Memory |",
             "|---|---:|---:|---:|---|---:|---:|"]
    for label, reply in rows:
        s = reply.stats if reply is not None else {}
        if not s:
            lines.append(f"| {_cell(label)} | | | | {'failed' if reply is not None else ''} | | |")
            continue
        used = s.get("prompt_tokens", 0) + s.get("completion_tokens", 0)
        context = f"{used:,} / {s['n_ctx']:,}" if s.get("n_ctx") else f"{used:,}"
        memory = human_bytes(s["memory_bytes"]) if s.get("memory_bytes") else ""
        lines.append(f"| {_cell(label)} | {s.get('ttft_s', 0):.2f} s | {s.get('decode_tok_s', 0):.1f} tok/s | "
                     f"{s.get('completion_tokens', 0):,} | {s.get('stop_reason', '')} | {context} | {memory} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")
