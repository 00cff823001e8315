"""The local model library: every GGUF we can find, with its header facts.

Looks in our models folder, the Hugging Face cache, and folders the user
added. Split models count once (by their first shard). No Qt.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from app import paths
from app.library.gguf_info import SPLIT_RE, GGUFFileError, GGUFInfo, read_gguf_info, split_shards


@dataclass(frozen=True)
class LocalModel:
    path: Path
    source: str  # "hearth", "hf-cache" or "folder"
    info: GGUFInfo | None
    problem: str = ""  # why the header could not be read

    @property
    def name(self) -> str:
        return self.info.display_name if self.info else self.path.stem

    @property
    def size_bytes(self) -> int:
        return self.info.size_bytes if self.info else self.path.stat().st_size


def hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _gguf_files(folder: Path) -> list[Path]:
    found = []
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.lower().endswith(".gguf") or name.endswith(".part"):
                continue
            match = SPLIT_RE.match(name)
            if match and int(match["index"]) != 1:
                continue  # later shards belong to the first one
            found.append(Path(root) / name)
    return sorted(found)


def scan_library(extra_dirs: list[str] | None = None) -> list[LocalModel]:
    """Every local GGUF model. Reads headers only; safe to run off the GUI thread."""
    sources: list[tuple[Path, str]] = [(paths.models_dir(create=False), "hearth")]
    cache = hf_cache_dir()
    sources.append((cache, "hf-cache"))
    sources += [(Path(d).expanduser(), "folder") for d in (extra_dirs or [])]
    seen: set[Path] = set()
    models: list[LocalModel] = []
    for folder, source in sources:
        for path in _gguf_files(folder):
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            try:
                models.append(LocalModel(path, source, read_gguf_info(path)))
            except (GGUFFileError, OSError) as exc:
                models.append(LocalModel(path, source, None, str(exc)))
    return models


def import_model(source: Path) -> Path:
    """Copy a GGUF (all shards of a split model) into our models folder; returns the new first file."""
    info = read_gguf_info(source)  # refuses anything that is not a whole GGUF
    target_dir = paths.models_dir() / "imported"
    target_dir.mkdir(parents=True, exist_ok=True)
    first = None
    for shard in info.shard_paths:
        shard_path = Path(shard)
        target = target_dir / shard_path.name
        if target.resolve() != shard_path.resolve():
            shutil.copy2(shard_path, target)
        first = first or target
    return first


def delete_model(path: Path) -> None:
    """Delete a model file (every shard). Only files inside our models folder are deleted."""
    root = paths.models_dir().resolve()
    for shard in split_shards(path):
        resolved = shard.resolve()
        if root not in resolved.parents:
            raise PermissionError(f"only models in {root} can be deleted from Hearth: {shard}")
        resolved.unlink(missing_ok=True)
