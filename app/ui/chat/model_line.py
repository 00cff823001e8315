"""The chat page's one line about the loaded model: name, context, where it runs, template, load time, notes."""

from __future__ import annotations

from app.engine.protocol import ModelInfo
from app.library.gguf_info import GGUFInfo
from app.library.model_kind import BASE_MODEL, kind_words, template_words

COMPARE_TAG = " · loaded by Compare"  # the Compare view loaded it on the shared engine, not this chat


def loaded_line(info: ModelInfo, by_compare: bool = False, header: GGUFInfo | None = None) -> str:
    """`header`, the library's facts about the file, tells a base model (model_kind.py)."""
    if info.gpu_backend == "remote":
        where = "on the server"
    else:
        where = f"{info.n_gpu_layers} of {info.n_layers + 1} layers on GPU" if info.n_gpu_layers else "CPU"
    template = template_words(info.chat_template)
    base = info.chat_template == "completion" or (info.chat_template != "file" and bool(kind_words(header)))
    name = f"{info.name} · {BASE_MODEL}" if base else info.name
    name += " · sees images" if info.mmproj else ""  # its projector (mmproj) was loaded with it
    text = f"{name} · {info.n_ctx:,}-token context · {where} · {template} · loaded in {info.load_seconds:.1f} s"
    if by_compare:
        text += COMPARE_TAG
    notes = "; ".join(n for n in info.notice.split("; ") if n and n != BASE_MODEL)  # said once, up front
    return text + (f"\nNote: {notes}" if notes else "")


def not_loaded_line(chosen: str, loaded: ModelInfo | None) -> str:
    """The picker shows a model the engine does not hold (a chat reopened, a restart, a pick not yet loaded)."""
    text = f"{chosen} is not loaded: Send loads it first, or press Load."
    return text + (f" Loaded now: {loaded.name}." if loaded is not None else "")


def ejected_line(info: ModelInfo, freed_bytes: int) -> str:
    from app.formatting import human_bytes

    freed = f": {human_bytes(freed_bytes)} of memory freed" if freed_bytes > 0 else ""
    return f"Ejected {info.name}{freed}. Send or Load brings it back."
