"""The app-wide ChangeHub (app/store/changes.py) as one Qt signal on the GUI thread.

Views subscribe here instead of being told by hand: the sidebar to chats, the chat page to its chat,
Compare to comparisons. Built once per hub (application.build_window makes the hub and the writer);
anything that holds the writer finds the same adapter with `change_signal(writes)`.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, Signal

from app.store.changes import ChangeHub, Changes
from app.store.pending_writes import PendingWrites

_adapters: weakref.WeakKeyDictionary[ChangeHub, ChangeSignal] = weakref.WeakKeyDictionary()


class ChangeSignal(QObject):
    """Re-emits each batch the hub publishes; from another thread it arrives queued, on the GUI thread."""

    changed = Signal(object)  # tuple[Change, ...]

    def __init__(self, hub: ChangeHub) -> None:
        super().__init__()  # no parent: kept by _adapters for as long as its hub lives
        hub.subscribe(self._relay)

    def _relay(self, changes: Changes) -> None:
        self.changed.emit(changes)


def change_signal(source: ChangeHub | PendingWrites) -> ChangeSignal:
    """The one adapter of this hub (or of the writer's hub); made on first use, which must be on the GUI thread."""
    hub = source.changes if isinstance(source, PendingWrites) else source
    adapter = _adapters.get(hub)
    if adapter is None:
        adapter = _adapters[hub] = ChangeSignal(hub)
    return adapter


def touches(changes: Changes, entity: str, item_id: int | str | None = None) -> bool:
    """Whether any change is about `entity` (that one, if `item_id` is given)."""
    return any(c.entity == entity and (item_id is None or c.id == item_id) for c in changes)
