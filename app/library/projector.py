"""Image projectors ("mmproj" files): recognised by their GGUF header, paired with their model.

A vision model's repository ships the model's GGUF and a projector GGUF beside it. The projector's
header says what it is (`general.architecture` is "clip"; its `general.type` is "mmproj"), whatever
its file is called, so that is what is read. A projector is never a chat model on its own.

Pairing is one rule for the library (which already has every header) and for a load by path (which
reads the headers in the model's repository): a projector in the same repository (the model's folder,
or anywhere in the same Hugging Face cache snapshot) whose output width is the model's embedding
width; among several, the one whose header names the same model (`general.name`), then the one
whose file name shares the longest start with the model's (a repository that ships one per size).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from app import paths
from app.library.gguf_info import GGUFFileError, GGUFInfo, read_gguf_info

PROJECTOR_ARCHITECTURE = "clip"
PROJECTOR_NOTE = "an image projector (mmproj): it is loaded with the vision model beside it, not on its own"
MAX_REPOSITORY_FILES = 200  # GGUF headers read when a load by path looks for its projector


def is_projector(info: GGUFInfo) -> bool:
    return info.architecture == PROJECTOR_ARCHITECTURE


def repository_root(path: Path) -> Path:
    """The folder a model's repository occupies: its Hugging Face cache snapshot, or the publisher/name
    folder Discover downloads it into (app/hub/download_paths.py), else the model's own folder."""
    return _repository(path)[0]


def _repository(path: Path) -> tuple[Path, bool]:
    """(root, whether it is a whole repository, subfolders included)."""
    parts = path.parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] == "snapshots" and parts[i - 1].startswith("models--") and i + 1 < len(parts) - 1:
            return Path(*parts[:i + 2]), True
    models = paths.models_dir(create=False)
    if models in path.parents:
        inside = path.relative_to(models).parts
        if len(inside) >= 3:  # publisher/name/…/file: the repository's subfolders belong to it
            return models / inside[0] / inside[1], True
    return path.parent, False


def _same_repository(model: Path, candidate: Path) -> bool:
    root, whole = _repository(model)
    return candidate.parent == model.parent or (whole and root in candidate.parents)


def _fits(width: int, projector: GGUFInfo) -> bool:
    return not width or not projector.embedding_length or projector.embedding_length == width


def _plain(name: str) -> str:
    return " ".join(name.lower().replace("mmproj", " ").replace("-", " ").replace("_", " ").split())


def best_projector(model: Path, info: GGUFInfo | None, projectors: Sequence[tuple[Path, GGUFInfo]]) -> Path | None:
    """The projector among `projectors` (path, header) that belongs to `model`, or None."""
    width = info.embedding_length if info is not None else 0
    fits = [(path, p) for path, p in projectors
            if path != model and is_projector(p) and _same_repository(model, path) and _fits(width, p)]
    if len(fits) <= 1:
        return fits[0][0] if fits else None
    stem = model.stem.lower()
    name = _plain(info.name) if info is not None and info.name else ""

    def shared(path: Path) -> int:
        other = path.stem.lower().removeprefix("mmproj-").removeprefix("mmproj_")
        differ = (i for i, (a, b) in enumerate(zip(stem, other, strict=False)) if a != b)
        return next(differ, min(len(stem), len(other)))

    def score(item: tuple[Path, GGUFInfo]) -> tuple[bool, bool, int]:
        path, projector = item
        return bool(name) and _plain(projector.name) == name, path.parent == model.parent, shared(path)

    return max(fits, key=score)[0]


def pair_all(models: Sequence[tuple[Path, GGUFInfo]], projectors: Sequence[tuple[Path, GGUFInfo]]) -> dict[Path, Path]:
    """Each model that sees images -> its projector (the library's headers; no file is read)."""
    pairs: dict[Path, Path] = {}
    for path, info in models:
        found = best_projector(path, info, projectors)
        if found is not None:
            pairs[path] = found
    return pairs


def _repository_files(model: Path) -> list[Path]:
    root, whole = _repository(model)
    found: list[Path] = []
    for dirpath, dirs, files in os.walk(root if whole else model.parent):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if whole else []
        found += [Path(dirpath) / f for f in sorted(files) if f.lower().endswith(".gguf")]
        if len(found) >= MAX_REPOSITORY_FILES:
            break
    return found[:MAX_REPOSITORY_FILES]


def projectors_beside(model: Path, width: int = 0) -> list[Path]:
    """The projector files in the model's repository (headers that cannot be read are skipped); with
    `width` (the model's embedding length), only those whose output has that width: a folder of
    several models never pairs a projector with a model it cannot feed."""
    return [path for path, info in _projectors_near(model) if _fits(width, info)]


def _projectors_near(model: Path) -> list[tuple[Path, GGUFInfo]]:
    found: list[tuple[Path, GGUFInfo]] = []
    for candidate in _repository_files(model):
        if candidate == model or not candidate.is_file():
            continue
        try:
            info = read_gguf_info(candidate)
        except (GGUFFileError, OSError):
            continue
        if is_projector(info):
            found.append((candidate, info))
    return found


def pair_projector(model: str | Path) -> Path | None:
    """The projector that belongs to `model` (the library's rule, reading the headers near it)."""
    model = Path(model).expanduser()
    try:
        info: GGUFInfo | None = read_gguf_info(model)
    except (GGUFFileError, OSError):
        info = None
    return best_projector(model, info, _projectors_near(model))


def opened_model(path: str | Path) -> tuple[GGUFInfo, Path | None, GGUFInfo | None]:
    """A model opened by path (File → Open): its header and its projector's, if one pairs with it; a
    projector itself is refused with the sentence that says what to open instead (GGUFFileError)."""
    from app.library.architectures import unknown_architecture_message
    from app.library.gguf_reader import GGUFErrorKind

    info = read_gguf_info(path)
    if is_projector(info):
        raise GGUFFileError(GGUFErrorKind.NOT_GGUF, unknown_architecture_message(PROJECTOR_ARCHITECTURE) + ".")
    projector = pair_projector(path)
    try:
        return info, projector, read_gguf_info(projector) if projector is not None else None
    except (GGUFFileError, OSError):
        return info, None, None
