"""A QTimer made in one typed call (PySide6's keyword constructor is not in its type stubs)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


def timer(parent: QObject, interval_ms: int, slot: Callable[[], None], single: bool = True) -> QTimer:
    """A stopped timer owned by `parent` that calls `slot` after `interval_ms` (once, or every time if not single)."""
    made = QTimer(parent)
    made.setInterval(interval_ms)
    made.setSingleShot(single)
    made.timeout.connect(slot)
    return made
