"""Numbers shown to people, the same in the GUI and the CLI."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """A byte count in decimal units: 512 B, 98.3 MB, 4.9 GB."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def counted(n: int, word: str, plural: str = "", grouped: bool = False) -> str:
    """`n` and its word, plural unless `n` is 1: "1 token", "2 tokens", "1,024 tokens" (`grouped`);
    `plural` for a word that does not just add an s ("1 reply", "2 replies")."""
    number = f"{n:,}" if grouped else str(n)
    return f"{number} {word if n == 1 else plural or word + 's'}"


TITLE_CHARS = 48


def short_title(text: str, limit: int = TITLE_CHARS) -> str:
    """A chat's title from its first message: one line, at most `limit` characters, "…" where it was cut
    (at a word break when one is near the end)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
