"""A chat's messages form a tree: each message follows its parent, and the messages
that follow the same parent are alternatives at that turn (regenerated replies,
edited questions). Exactly one alternative per turn is chosen; the conversation on
screen, and the one the model continues, runs through the chosen ones.

These are the tree's only rules. The store writes what they compute (store/conversations.py)
and the write queue computes with them what reads show while writes wait (store/pending_writes.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from app.chat.message import Message

LATEST = -1  # a new message's default parent: the last message of the conversation on screen


def children(records: Iterable[Message]) -> dict[int | None, list[Message]]:
    """Each parent id (None for the first turn) with the messages that follow it, oldest first."""
    groups: dict[int | None, list[Message]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.id):
        groups[record.parent_id].append(record)
    return groups


def shown_path(records: list[Message]) -> list[Message]:
    """The chosen alternative at each turn, from the first message on, with its place among its siblings.

    A turn where no alternative is marked chosen (a damaged or hand-edited file) shows the newest.
    """
    groups = children(records)
    path: list[Message] = []
    parent: int | None = None
    seen: set[int] = set()
    while groups.get(parent):
        siblings = groups[parent]
        pick = next((i for i in range(len(siblings) - 1, -1, -1) if siblings[i].chosen), len(siblings) - 1)
        record = siblings[pick]
        if record.id in seen:  # a loop in a damaged file: stop rather than spin
            break
        seen.add(record.id)
        path.append(replace(record, alternative=pick + 1, alternatives=len(siblings)))
        parent = record.id
    return path


def branch_from(records: list[Message], first: Message) -> list[Message]:
    """`first` and what follows it along the chosen alternatives (an alternative's own continuation)."""
    groups = children(records)
    path = [first]
    while groups.get(path[-1].id) and len(path) <= len(records):
        siblings = groups[path[-1].id]
        path.append(next((s for s in reversed(siblings) if s.chosen), siblings[-1]))
    return path


def placement(records: list[Message], parent_id: int | None) -> tuple[int | None, int]:
    """Where a new message goes: (its parent, its position). LATEST follows the last message shown.

    `records` holds the chat's tree, or at least the parent (LATEST needs the whole tree).
    Raises ValueError when the parent is not among them."""
    if parent_id == LATEST:
        shown = shown_path(records)
        parent_id = shown[-1].id if shown else None
    if parent_id is None:
        return None, 0
    parent = next((r for r in records if r.id == parent_id), None)
    if parent is None:
        raise ValueError(f"message {parent_id} is not in this chat")
    return parent_id, parent.position + 1


def add(records: list[Message], message: Message) -> list[Message]:
    """The tree with `message` added: it becomes the chosen alternative at its turn, its siblings stay."""
    return choose([*records, message], message.id)


def choose(records: list[Message], message_id: int) -> list[Message]:
    """The tree with `message_id` chosen at its turn and its siblings not (nothing changes if it is absent)."""
    target = next((r for r in records if r.id == message_id), None)
    if target is None:
        return records
    return [replace(r, chosen=r.id == message_id) if r.parent_id == target.parent_id else r for r in records]


def siblings(records: list[Message], message_id: int) -> list[Message]:
    """The message and the other alternatives at its turn, oldest first ([] if it is absent)."""
    target = next((r for r in records if r.id == message_id), None)
    if target is None:
        return []
    return sorted((r for r in records if r.parent_id == target.parent_id), key=lambda r: r.id)


def cut(records: list[Message], position: int) -> list[Message]:
    """The tree without every message at `position` or later, in every branch."""
    return [r for r in records if r.position < position]
