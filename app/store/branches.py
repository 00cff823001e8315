"""A chat's messages form a tree: each message follows its parent, and the messages
that follow the same parent are alternatives at that turn (regenerated replies,
edited questions). Exactly one alternative per turn is chosen; the conversation on
screen, and the one the model continues, runs through the chosen ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from app.store.records import MessageRecord


def children(records: list[MessageRecord]) -> dict[int | None, list[MessageRecord]]:
    """Each parent id (None for the first turn) with the messages that follow it, oldest first."""
    groups: dict[int | None, list[MessageRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.id):
        groups[record.parent_id].append(record)
    return groups


def shown_path(records: list[MessageRecord]) -> list[MessageRecord]:
    """The chosen alternative at each turn, from the first message on, with its place among its siblings.

    A turn where no alternative is marked chosen (a damaged or hand-edited file) shows the newest.
    """
    groups = children(records)
    path: list[MessageRecord] = []
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


def branch_from(records: list[MessageRecord], first: MessageRecord) -> list[MessageRecord]:
    """`first` and what follows it along the chosen alternatives (an alternative's own continuation)."""
    groups = children(records)
    path = [first]
    while groups.get(path[-1].id) and len(path) <= len(records):
        siblings = groups[path[-1].id]
        path.append(next((s for s in reversed(siblings) if s.chosen), siblings[-1]))
    return path
