"""The app-wide ChangeHub (app/store/changes.py) as one Qt signal on the GUI thread.

Views subscribe here instead of being told by hand: the sidebar to chats, the chat page to its chat,
Compare to comparisons. Built once per hub (application.build_window makes the hub and the writer);
anything that holds the writer finds the same adapter with `change_signal(writes)`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

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


class _TitleFollower(QObject):
    """A child of the view it serves, so its connection ends with the view."""

    def __init__(self, writes: PendingWrites, chat_id: Callable[[], int], show: Callable[[str], None],
                 owner: QObject) -> None:
        super().__init__(owner)
        self.writes, self.chat_id, self.show = writes, chat_id, show
        change_signal(writes).changed.connect(self.on_changes)

    def on_changes(self, changes: Changes) -> None:
        chat_id = self.chat_id()
        if chat_id and touches(changes, "chat", chat_id) and (chat := self.writes.chat(chat_id)) is not None:
            self.show(chat.title)


def follow_title(writes: PendingWrites, chat_id: Callable[[], int], show: Callable[[str], None],
                 owner: QObject) -> None:
    """Call `show(title)` whenever the chat `chat_id()` names is changed (renamed in the sidebar, say)."""
    _TitleFollower(writes, chat_id, show, owner)
