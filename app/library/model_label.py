"""How the chat's model picker and "Regenerate with…" name a local model. No Qt."""

from __future__ import annotations

from app.library import demo_model
from app.library.architectures import architecture_problem
from app.library.gguf_info import format_params
from app.library.library import LocalModel
from app.library.model_kind import kind_words


def model_label(model: LocalModel) -> str:
    """Name, size when the name does not say it, then the demo, base-model and unknown-architecture marks."""
    name = model.name
    if model.info is None:
        return name
    params = format_params(model.info.n_params)
    label = name if params.lower() in name.lower() else f"{name} · {params}"
    if demo_model.is_demo(model.path):
        label += " · demo"
    if model.sees_images:  # its projector is paired (projector.py)
        label += " · sees images"
    kind = kind_words(model.info)
    label = f"{label} · {kind}" if kind else label
    return f"{label} · unknown architecture" if architecture_problem(model.info.architecture) else label
