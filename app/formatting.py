"""Numbers shown to people, the same in the GUI and the CLI."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """A byte count in decimal units: 512 B, 98.3 MB, 4.9 GB."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
