"""What a write changed, and the one app-wide place where that is announced. No Qt.

Every write through the one writer (store/pending_writes.py) returns the `Change`s it made and
publishes them on the `ChangeHub` it was given; settings saves publish there too. Views subscribe
instead of being told by hand (app/ui/changes.py re-emits each batch as a Qt signal on the GUI thread).
A change is announced when the write is accepted: reads show it from then on, written or still waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Action = Literal["created", "updated", "deleted"]
Entity = Literal["chat", "message", "comparison", "model", "settings"]


@dataclass(frozen=True)
class Change:
    """`entity` number or name `id` was created, updated or deleted (a model's id is its path)."""

    action: Action
    entity: Entity
    id: int | str


Changes = tuple[Change, ...]
Listener = Callable[[Changes], None]


class ChangeHub:
    """Subscribers are called with each batch of changes, in the thread that published it."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def publish(self, changes: Iterable[Change]) -> Changes:
        """Tell every subscriber (nothing when `changes` is empty); the changes, for the caller to return."""
        batch = tuple(changes)
        if batch:
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                listener(batch)
        return batch
