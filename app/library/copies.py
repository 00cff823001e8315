"""One row per model, however many places hold it: files with the same bytes are merged.

Two files are the same model when they are the same file (a hard link) or when every shard has
the same size and SHA-256. Sizes are compared first, so only files that share a size with
another are ever hashed: small ones at once, large ones later in the background (`pending`),
never during the scan itself. No Qt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from app.library.file_hashes import HashCache
from app.library.library import LocalModel

INLINE_HASH_LIMIT = 16 * 1024 * 1024  # files up to this size are hashed during the scan (a few ms)


@dataclass(frozen=True)
class Merged:
    models: list[LocalModel]  # one per distinct model, each with its other locations in `copies`
    pending: list[Path]  # files that may be copies of another, to hash in the background


def _never() -> bool:
    return False


def _shards(model: LocalModel) -> list[Path]:
    return [Path(s) for s in model.info.shard_paths] if model.info else [model.path]


def _sizes(model: LocalModel) -> tuple[int, ...] | None:
    try:
        return tuple(p.stat().st_size for p in _shards(model))
    except OSError:
        return None


def _inode(model: LocalModel) -> tuple[int, int] | None:
    try:
        st = model.path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def merged(models: list[LocalModel], cancelled: Callable[[], bool] = _never, inline_limit: int | None = None) -> Merged:
    """merge_copies with the hashes remembered in the library index. Safe off the GUI thread."""
    with HashCache.open_default() as cache:
        limit = INLINE_HASH_LIMIT if inline_limit is None else inline_limit
        return merge_copies(models, cache, limit, cancelled)


def hash_and_merge(models: list[LocalModel], pending: list[Path], cancelled: Callable[[], bool] = _never) -> Merged:
    """The background half: hash the files a scan left pending, then merge the scan's list again."""
    with HashCache.open_default() as cache:
        for path in pending:
            try:
                cache.sha256(path, cancelled)
            except OSError:
                continue  # gone or unreadable: it is not merged with anything
        return merge_copies(models, cache, 0, cancelled)


def merge_copies(models: list[LocalModel], cache: HashCache, inline_limit: int = INLINE_HASH_LIMIT,
                 cancelled: Callable[[], bool] = _never) -> Merged:
    """Merge the scan's list (one entry per path) into one entry per model, keeping the scan's order;
    the first location found stays the main one."""
    by_size: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, model in enumerate(models):
        sizes = _sizes(model) if model.info is not None else None
        if sizes is not None:
            by_size[sizes].append(i)
    key_of: dict[int, object] = {}
    pending: list[Path] = []
    for sizes, members in by_size.items():
        if len(members) < 2:
            continue
        inodes = {i: _inode(models[i]) for i in members}
        if None not in inodes.values() and len(set(inodes.values())) == 1:
            key_of.update(inodes)  # hard links of one file: the same bytes without reading them
            continue
        hashed: dict[object, list[str]] = {}  # hard links share their hashes: each file is read once
        for i in members:
            inode = inodes[i]
            if inode is not None and inode in hashed:
                digests = hashed[inode]
                key_of[i] = (sizes, tuple(digests)) if all(digests) else inode
                continue
            digests = []
            for shard, size in zip(_shards(models[i]), sizes):
                digest = cache.known(shard)
                if not digest and size <= inline_limit:
                    try:
                        digest = cache.sha256(shard, cancelled)
                    except OSError:
                        digest = ""
                if not digest:
                    pending.append(shard)
                digests.append(digest)
            if inode is not None:
                hashed[inode] = digests
            if all(digests):
                key_of[i] = (sizes, tuple(digests))
            elif inode is not None:
                key_of[i] = inode
    return Merged(_group(models, key_of), pending)


def _group(models: list[LocalModel], key_of: dict[int, object]) -> list[LocalModel]:
    first_with: dict[object, int] = {}
    copies: dict[int, list[Path]] = defaultdict(list)
    kept: list[int] = []
    for i, model in enumerate(models):
        key = key_of.get(i)
        if key is not None and key in first_with:
            copies[first_with[key]].append(model.path)
            continue
        if key is not None:
            first_with[key] = i
        kept.append(i)
    return [replace(models[i], copies=tuple(copies[i])) if copies[i] else models[i] for i in kept]


def find_local_copy(parts: Iterable[tuple[int, str]], models: list[LocalModel], cache: HashCache,
                    cancelled: Callable[[], bool] = _never) -> LocalModel | None:
    """The local model whose shards have these (size, SHA-256) pairs, hashing only same-size files."""
    wanted = [(size, sha.lower()) for size, sha in parts]
    if not wanted or not all(sha for _size, sha in wanted):
        return None
    sizes = tuple(size for size, _sha in wanted)
    for model in models:
        if model.info is None or _sizes(model) != sizes:
            continue
        try:
            if all(cache.sha256(shard, cancelled) == sha for shard, (_size, sha) in zip(_shards(model), wanted)):
                return model
        except OSError:
            continue
    return None


def local_copies(wanted: dict[str, list[tuple[int, str]]], models: list[LocalModel],
                 cancelled: Callable[[], bool] = _never) -> dict[str, str]:
    """For Hub files given as name → [(size, SHA-256) of each part]: name → the local path of the
    same bytes, for those already here. Safe off the GUI thread."""
    found: dict[str, str] = {}
    with HashCache.open_default() as cache:
        for name, parts in wanted.items():
            model = find_local_copy(parts, models, cache, cancelled)
            if model is not None:
                found[name] = str(model.path)
    return found
