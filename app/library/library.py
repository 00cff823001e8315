"""The local model library: every GGUF we can find, with its header facts.

Looks in our models folder, the Hugging Face cache, and folders the user
added. Split models count once (by their first shard). No Qt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app import paths
from app.library.gguf_info import SPLIT_RE, GGUFErrorKind, GGUFFileError, GGUFInfo, read_info_uncached, split_shards
from app.library.index import LibraryIndex, signature
from app.library.projector import PROJECTOR_NOTE, is_projector, pair_all

FILE_TIME_LIMIT = 5.0  # seconds one file's header may take before it is listed as unreadable


class ScanCancelled(Exception):
    """The scan was asked to stop (the app is quitting); the index keeps what it had."""

    def __init__(self) -> None:
        super().__init__("the model scan was stopped")


@dataclass(frozen=True)
class LocalModel:
    path: Path
    source: str  # "hearth", "hf-cache" or "folder"
    info: GGUFInfo | None
    problem: str = ""  # why the header could not be read
    copies: tuple[Path, ...] = ()  # other places holding the same file (copies.py merges them)
    projector: Path | None = None  # a model that sees images: the projector it loads with (projector.py)
    projector_info: GGUFInfo | None = None  # that projector's header (its memory in the plan)
    projector_of: Path | None = None  # an image projector's row: the model it belongs to, if any

    @property
    def sees_images(self) -> bool:
        return self.projector is not None

    @property
    def is_projector(self) -> bool:
        return self.problem == PROJECTOR_NOTE

    @property
    def locations(self) -> tuple[Path, ...]:
        return (self.path, *self.copies)

    @property
    def name(self) -> str:
        return self.info.display_name if self.info else self.path.stem

    @property
    def size_bytes(self) -> int:
        return self.info.size_bytes if self.info else self.path.stat().st_size


def hf_cache_dir() -> Path:
    """Where huggingface_hub keeps its cache, worked out as it does (importing it takes a while)."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if cache:
        return Path(cache).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def _never() -> bool:
    return False


def _gguf_files(folder: Path, cancelled: Callable[[], bool] = _never) -> list[Path]:
    found: list[Path] = []
    if folder.is_file() and folder.name.lower().endswith(".gguf"):
        return [folder]  # a file opened from elsewhere and kept in the library (LibraryController.add_opened)
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder, followlinks=False):
        if cancelled():
            raise ScanCancelled()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.lower().endswith(".gguf") or name.endswith(".part"):
                continue
            match = SPLIT_RE.match(name)
            if match and int(match["index"]) != 1:
                continue  # later shards belong to the first one
            found.append(Path(root) / name)
    return sorted(found)


def _sources(extra_dirs: list[str] | None) -> list[tuple[Path, str]]:
    sources = [(paths.models_dir(create=False), "hearth"), (hf_cache_dir(), "hf-cache")]
    return sources + [(Path(d).expanduser(), "folder") for d in (extra_dirs or [])]


def _open_index() -> LibraryIndex:
    return LibraryIndex(paths.library_index_path(create=False) if paths.data_dir(create=False).is_dir() else None)


def _read(path: Path, time_limit: float) -> tuple[GGUFInfo | None, str, bool]:
    """(info, problem, lasting): an I/O error may pass and is not remembered; a timeout is (until the file changes)."""
    try:
        info = read_info_uncached(path, deadline=time.monotonic() + time_limit)
    except GGUFFileError as exc:
        if exc.kind == GGUFErrorKind.TIMEOUT:
            return None, f"reading its header took more than {time_limit:g} s", True
        return None, str(exc), True
    except OSError as exc:
        return None, f"could not read it: {exc.strerror or exc}", False
    if not info.n_params:
        return None, "it holds no weights (a vocabulary-only GGUF), so it cannot chat", True
    return info, "", True


def scan_library(
    extra_dirs: list[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    time_limit: float = FILE_TIME_LIMIT,
    cancelled: Callable[[], bool] = _never,
) -> list[LocalModel]:
    """Every local GGUF model. Reads only new or changed headers (the index remembers the rest).

    `on_progress(done, total)` is called after each file. Safe to run off the GUI thread.
    `cancelled()` is checked between folders and between files: once it is True the scan raises
    ScanCancelled (headers read so far stay in the index; nothing is forgotten).
    """
    found: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for folder, source in _sources(extra_dirs):
        for path in _gguf_files(folder, cancelled):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                found.append((path, source))
    index = _open_index()
    entries: list[tuple[Path, str, GGUFInfo | None, str]] = []
    try:
        for done, (path, source) in enumerate(found, 1):
            if cancelled():
                raise ScanCancelled()
            sig = signature(path)
            known = index.lookup(path, sig)
            if known is None:
                info, problem, lasting = _read(path, time_limit)
                if lasting:
                    index.store(path, source, sig, info, problem)
                known = info, problem
            entries.append((path, source, *known))
            if on_progress is not None:
                on_progress(done, len(found))
        index.keep_only({str(path) for path, _ in found})
    finally:
        index.close()
    return listed(entries)


def listed(entries: list[tuple[Path, str, GGUFInfo | None, str]]) -> list[LocalModel]:
    """The library's rows from (path, source, header, problem): each projector paired with its model
    and listed as that model's part, never as a chat model alone."""
    projectors = [(path, info) for path, _s, info, _p in entries if info is not None and is_projector(info)]
    models = [(path, info) for path, _s, info, _p in entries if info is not None and not is_projector(info)]
    pairs = pair_all(models, projectors)
    owners = {projector: model for model, projector in pairs.items()}
    headers = dict(projectors)
    rows: list[LocalModel] = []
    for path, source, info, problem in entries:
        if info is not None and is_projector(info):
            rows.append(LocalModel(path, source, None, PROJECTOR_NOTE, projector_of=owners.get(path)))
        else:
            projector = pairs.get(path)
            rows.append(LocalModel(path, source, info, problem, projector=projector,
                                   projector_info=headers.get(projector) if projector else None))
    return rows


def cached_library() -> list[LocalModel]:
    """The list the last scan found, from the index alone: no model file is opened."""
    index = _open_index()
    try:
        return listed(index.entries())
    finally:
        index.close()


def delete_model(path: Path) -> None:
    """Delete a model file (every shard). Only files inside our models folder are deleted."""
    root = paths.models_dir().resolve()
    for shard in split_shards(path):
        resolved = shard.resolve()
        if root not in resolved.parents:
            raise PermissionError(f"only models in {root} can be deleted from Hearth: {shard}")
        resolved.unlink(missing_ok=True)
