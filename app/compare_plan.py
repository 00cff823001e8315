"""How the Compare view runs its columns: together on separate engines, or one at a time on one.

Decided from a memory estimate, which the view shows as a sentence. A model file used by
several columns is mapped once (its pages are shared between engine processes); each
column adds its own KV cache and an engine's own overhead. Remote models cost nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.formatting import human_bytes

ENGINE_OVERHEAD_BYTES = 300 * 1024**2  # a Python engine process with llama.cpp loaded, before any model
HEADROOM = 0.85  # of free memory, what the columns may take together (the rest is for the OS and the app)


@dataclass(frozen=True)
class ColumnNeed:
    """One column's model: which file, its weights and its KV cache at the column's context size."""

    path: str
    weights_bytes: int
    kv_bytes: int
    remote: bool = False


@dataclass(frozen=True)
class RunPlan:
    together: bool
    reason: str  # one sentence for the user
    need_bytes: int  # memory the columns take when run together
    free_bytes: int


def need_together(columns: list[ColumnNeed]) -> int:
    local = [c for c in columns if not c.remote]
    files = {c.path: c.weights_bytes for c in local}
    return sum(files.values()) + sum(c.kv_bytes + ENGINE_OVERHEAD_BYTES for c in local)


def plan(columns: list[ColumnNeed], free_ram: int, free_vram: int = 0, choice: str = "auto") -> RunPlan:
    """`choice` is the user's: "auto", "one_at_a_time" or "together"."""
    need = need_together(columns)
    free = free_ram + free_vram
    fits = need <= free * HEADROOM
    numbers = f"about {human_bytes(need)} for all columns, {human_bytes(free)} free"
    if len(columns) < 2:
        return RunPlan(False, "One column: nothing to run side by side.", need, free)
    if choice == "one_at_a_time":
        return RunPlan(False, "One at a time, as chosen: each model is loaded in turn, so speeds are not shared.",
                       need, free)
    if choice == "together":
        warning = "" if fits else " This may not fit in memory."
        return RunPlan(True, f"Together, as chosen ({numbers}): the columns share the processor, "
                             f"so each runs slower than alone.{warning}", need, free)
    if fits:
        return RunPlan(True, f"Together, on separate engines: there is enough memory ({numbers}). "
                             "The columns share the processor.", need, free)
    both = "both" if len(columns) == 2 else f"all {len(columns)}"
    return RunPlan(False, f"One at a time: not enough memory for {both} ({numbers}). "
                          "Each model is loaded in turn.", need, free)
