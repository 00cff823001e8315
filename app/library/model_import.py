"""Bring a GGUF someone has into Hearth's models folder: copy it, move it, or link to it.

Link is a hard link when the file is on the same disk as the models folder (no space used, and
the model stays even if the original is deleted), else a symbolic link to the file where it is.
A copy computes the SHA-256 as it goes, so the library never reads the file again to know it.
Every shard of a split model is handled. No Qt.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from app import paths
from app.library.file_hashes import CHUNK, HashCache, HashingCancelled
from app.library.gguf_info import read_gguf_info, split_shards
from app.library.library import delete_model


class ImportMethod(StrEnum):
    COPY = "copy"
    MOVE = "move"
    LINK = "link"


class ModelImportError(Exception):
    """The import could not be done; the message says why in one sentence and nothing was lost."""


def _never() -> bool:
    return False


def import_folder(create: bool = True) -> Path:
    folder = paths.models_dir(create) / "imported"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def _device(path: Path) -> int:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path.stat().st_dev


def same_disk(source: Path) -> bool:
    """Whether the file is on the disk that holds Hearth's models folder."""
    try:
        return _device(source) == _device(import_folder(create=False))
    except OSError:
        return False


def default_method(source: Path) -> ImportMethod:
    """Link when that costs nothing and is safe (same disk: a hard link); otherwise copy."""
    return ImportMethod.LINK if same_disk(source) else ImportMethod.COPY


def import_model(source: Path, method: ImportMethod = ImportMethod.COPY,
                 cancelled: Callable[[], bool] = _never) -> Path:
    """Bring a model (all its shards) into the models folder; returns the first file's new path."""
    info = read_gguf_info(source)  # refuses anything that is not a whole GGUF
    shards = [Path(s) for s in info.shard_paths]
    folder = import_folder()
    targets = [folder / shard.name for shard in shards]
    if all(t.exists() and t.resolve() == s.resolve() for s, t in zip(shards, targets)):
        return targets[0]  # already there
    taken = next((t for t in targets if t.exists() or t.is_symlink()), None)
    if taken is not None:
        raise ModelImportError(f"Hearth's models folder already has a file named {taken.name}; "
                               "rename one of them or delete the other first.")
    with HashCache.open_default() as cache:
        for shard, target in zip(shards, targets):
            _bring(shard, target, method, cache, cancelled)
    return targets[0]


def _bring(source: Path, target: Path, method: ImportMethod, cache: HashCache, cancelled: Callable[[], bool]) -> None:
    if method == ImportMethod.LINK:
        _link(source, target)
    elif method == ImportMethod.MOVE and same_disk(source):
        os.rename(source, target)  # the file keeps its bytes and its place on disk: nothing to copy
    else:
        digest = _copy_hashing(source, target, cancelled)
        cache.remember(target, digest)
        cache.remember(source, digest)
        if method == ImportMethod.MOVE:
            source.unlink()  # only once the copy is whole


def _link(source: Path, target: Path) -> None:
    if same_disk(source):
        try:
            os.link(source, target)
            return
        except OSError:
            pass  # a file system without hard links: a symbolic one still works
    os.symlink(source.resolve(), target)


def _copy_hashing(source: Path, target: Path, cancelled: Callable[[], bool]) -> str:
    """Copy through a .part file (never listed) and return the SHA-256 of what was written."""
    partial = target.with_name(target.name + ".importing.part")
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, partial.open("wb") as dst:
            while chunk := src.read(CHUNK):
                if cancelled():
                    raise HashingCancelled()
                digest.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(source, partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return digest.hexdigest()



def in_hearth_folder(path: Path) -> bool:
    """Whether this name (a file or a link to one elsewhere) lies in Hearth's models folder."""
    root, folder = paths.models_dir().resolve(), path.parent.resolve()
    return folder == root or root in folder.parents


def remove_from_hearth(path: Path) -> None:
    """Delete a model in Hearth's folder; a link to a file elsewhere loses only the link."""
    if path.is_symlink() and in_hearth_folder(path):
        for shard in split_shards(path):
            if shard.is_symlink():
                shard.unlink()
        return
    delete_model(path)
