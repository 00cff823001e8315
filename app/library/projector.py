"""Image projectors ("mmproj" files): recognised by their GGUF header, paired with their model.

A vision model's repository ships the model's GGUF and a projector GGUF beside it. The projector's
header says what it is (`general.architecture` is "clip"; its `general.type` is "mmproj"), whatever
its file is called, so that is what is read. A projector is never a chat model on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.library.gguf_info import GGUFFileError, GGUFInfo, read_gguf_info

PROJECTOR_ARCHITECTURE = "clip"
PROJECTOR_NOTE = "an image projector (mmproj): it is loaded with the vision model beside it, not on its own"


def is_projector(info: GGUFInfo) -> bool:
    return info.architecture == PROJECTOR_ARCHITECTURE


def projectors_beside(model: Path, width: int = 0) -> list[Path]:
    """The projector files in the model's folder (headers that cannot be read are skipped); with `width`
    (the model's embedding length), only those whose output has that width: a folder of several models
    never pairs a projector with a model it cannot feed."""
    found: list[Path] = []
    try:
        names = sorted(os.listdir(model.parent))
    except OSError:
        return []
    for name in names:
        candidate = model.parent / name
        if candidate == model or not name.lower().endswith(".gguf") or not candidate.is_file():
            continue
        try:
            info = read_gguf_info(candidate)
            if is_projector(info) and (not width or not info.embedding_length or info.embedding_length == width):
                found.append(candidate)
        except (GGUFFileError, OSError):
            continue
    return found


def pair_projector(model: str | Path) -> Path | None:
    """The projector that belongs to `model`: the only one beside it, or, among several, the one whose
    name shares the longest start with the model's (a repository that ships one per model size)."""
    model = Path(model).expanduser()
    try:
        width = read_gguf_info(model).embedding_length
    except (GGUFFileError, OSError):
        width = 0
    candidates = projectors_beside(model, width)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    stem = model.stem.lower()

    def shared(path: Path) -> int:
        name = path.stem.lower().removeprefix("mmproj-").removeprefix("mmproj_")
        return next((i for i, (a, b) in enumerate(zip(stem, name, strict=False)) if a != b), min(len(stem), len(name)))

    return max(candidates, key=shared)
