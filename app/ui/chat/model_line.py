"""The chat page's one line about the loaded model: name, context, where it runs, template, load time, notes."""

from __future__ import annotations

from app.engine.protocol import ModelInfo

COMPARE_TAG = " · loaded by Compare"  # the Compare view loaded it on the shared engine, not this chat


def loaded_line(info: ModelInfo, by_compare: bool = False) -> str:
    from app.ui.chat.prompt_dialog import describe_template  # imported when a model loads, not at start-up

    if info.gpu_backend == "remote":
        where = "on the server"
    else:
        where = f"{info.n_gpu_layers} of {info.n_layers + 1} layers on GPU" if info.n_gpu_layers else "CPU"
    template = describe_template(info.chat_template)
    text = f"{info.name} · {info.n_ctx:,}-token context · {where} · {template} · loaded in {info.load_seconds:.1f} s"
    if by_compare:
        text += COMPARE_TAG
    return text + (f"\nNote: {info.notice}" if info.notice else "")


def not_loaded_line(chosen: str, loaded: ModelInfo | None) -> str:
    """The picker shows a model the engine does not hold (a chat reopened, a restart, a pick not yet loaded)."""
    text = f"{chosen} is not loaded: Send loads it first, or press Load."
    return text + (f" Loaded now: {loaded.name}." if loaded is not None else "")


def ejected_line(info: ModelInfo, freed_bytes: int) -> str:
    from app.formatting import human_bytes

    freed = f": {human_bytes(freed_bytes)} of memory freed" if freed_bytes > 0 else ""
    return f"Ejected {info.name}{freed}. Send or Load brings it back."
