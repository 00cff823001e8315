"""The numbers a Compare column shows for its last reply, and the summary row's marks."""

from __future__ import annotations

from dataclasses import asdict

from app.engine.protocol import Done, ModelInfo
from app.formatting import human_bytes
from app.ui.services import resident_bytes  # noqa: F401  (the columns' memory figure)


def reply_stats(done: Done, info: ModelInfo | None, memory_bytes: int) -> dict:
    """What the store keeps with the reply plus the context size and the engine's memory."""
    stats = asdict(done.stats)
    stats["stop_reason"] = done.stats.stop_reason.value
    stats["n_ctx"] = done.stats.n_ctx or (info.n_ctx if info else 0)
    stats["memory_bytes"] = memory_bytes
    return stats


def last_stats(messages) -> dict:
    """The stats of the last finished reply in a conversation (a list of Message), or {}."""
    replies = [m for m in messages if m.role == "assistant" and m.stats]
    return dict(replies[-1].stats) if replies else {}


def describe(stats: dict) -> list[tuple[str, str]]:
    """(label, value) rows for a column's stats panel."""
    if not stats:
        return []
    used = stats.get("prompt_tokens", 0) + stats.get("completion_tokens", 0)
    n_ctx = stats.get("n_ctx") or 0
    context = f"{used:,} / {n_ctx:,} ({100 * used / n_ctx:.0f}%)" if n_ctx else f"{used:,}"
    memory = stats.get("memory_bytes") or 0
    return [
        ("First token", f"{stats.get('ttft_s', 0.0):.2f} s"),
        ("Speed", f"{stats.get('decode_tok_s', 0.0):.1f} tok/s"),
        ("Tokens", f"{stats.get('completion_tokens', 0):,}"),
        ("Stop", str(stats.get("stop_reason", ""))),
        ("Context used", context),
        ("Memory", human_bytes(memory) if memory else "on the server" if stats.get("remote") else "unknown"),
    ]


def summary(all_stats: list[dict]) -> dict[int, list[str]]:
    """Column index -> marks: fastest, quickest first token, longest and shortest reply.

    Only columns with a finished reply take part; a mark needs at least two of them.
    """
    ready = {i: s for i, s in enumerate(all_stats) if s and s.get("stop_reason") not in ("cancelled", "error")}
    marks: dict[int, list[str]] = {i: [] for i in range(len(all_stats))}
    if len(ready) < 2:
        return marks
    marks[max(ready, key=lambda i: ready[i].get("decode_tok_s", 0.0))].append("fastest")
    marks[min(ready, key=lambda i: ready[i].get("ttft_s", 0.0))].append("first token")
    lengths = {i: s.get("completion_tokens", 0) for i, s in ready.items()}
    if len(set(lengths.values())) > 1:
        marks[max(lengths, key=lambda i: lengths[i])].append("longest")
        marks[min(lengths, key=lambda i: lengths[i])].append("shortest")
    return marks
