"""A check that the GUI writes to the conversation database only through its one writer.

`guard_store_writes(monkeypatch)` wraps every write method of ConversationStore: a write whose
caller chain reaches code in app/ui before it reaches app/store/pending_writes.py is recorded as a
violation (file:line of the GUI code). tests/ui/conftest.py runs every GUI test under it.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import app.ui
from app.store import pending_writes
from app.store.conversations import ConversationStore

WRITES = ("create_chat", "update_chat", "delete_chat", "add_message", "update_message", "select_alternative",
          "delete_messages_from", "create_comparison", "update_comparison", "delete_comparison")
UI = str(Path(app.ui.__file__).resolve().parent) + os.sep
WRITER = str(Path(pending_writes.__file__).resolve())


def direct_caller() -> str:
    """The GUI code that called a store write without going through the writer, or ""."""
    frame = sys._getframe(2)
    while frame is not None:
        name = str(Path(frame.f_code.co_filename).resolve())
        if name == WRITER:
            return ""
        if name.startswith(UI):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def guard_store_writes(monkeypatch) -> list[str]:
    """Start watching; the list fills with one entry per direct write from app/ui."""
    violations: list[str] = []
    for name in WRITES:
        original = getattr(ConversationStore, name)

        @functools.wraps(original)
        def watched(self, *args, _original=original, _name=name, **kwargs):
            caller = direct_caller()
            if caller:
                violations.append(f"{_name} from {caller}")
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ConversationStore, name, watched)
    return violations
