"""Images a conversation holds: an ImagePart names the bytes by their SHA-256; an ImageBank has them.

The app's bank is the store's image folder (app/store/images.py, each image once, by content hash);
a request that is not stored (`hearth chat --image`, an API request) keeps its images in memory.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Protocol

from app.chat.message import ImagePart
from app.image_header import check_model_reads, read_header


class ImageBank(Protocol):
    def read(self, sha256: str) -> bytes:
        """The image's bytes; KeyError (or OSError) when it is gone."""
        ...


class MemoryImages:
    """Images held for one request."""

    def __init__(self) -> None:
        self._images: dict[str, bytes] = {}

    def add(self, data: bytes, name: str = "") -> ImagePart:
        """The part for `data`, checked from its header first (ImageError: one sentence why not)."""
        part = image_part(data, name)
        check_model_reads(part.mime)  # (the chat window converts what llama.cpp cannot read; a request cannot)
        self._images[part.sha256] = data
        return part

    def read(self, sha256: str) -> bytes:
        return self._images[sha256]


def image_part(data: bytes, name: str = "") -> ImagePart:
    """An ImagePart for these bytes; ImageError when they are not a usable picture."""
    header = read_header(data)
    return ImagePart(hashlib.sha256(data).hexdigest(), header.mime, header.width, header.height, name)



class PictureCache:
    """Pictures' bytes by SHA-256, kept in memory after the first read, at most `limit` bytes in all (the
    least recently used go first). The same hash is the same bytes, so one cache serves every chat; a lock,
    since it is filled off the GUI thread while the GUI reads it."""

    def __init__(self, limit: int = 256 * 1024 * 1024) -> None:
        self.limit = limit
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> bytes | None:
        with self._lock:
            data = self._kept.get(sha256)
            if data is not None:
                self._kept.move_to_end(sha256)
            return data

    def put(self, sha256: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        with self._lock:
            if sha256 in self._kept:
                return
            self._kept[sha256] = data
            self._size += len(data)
            while self._size > self.limit:
                _sha, gone = self._kept.popitem(last=False)
                self._size -= len(gone)

    def __contains__(self, sha256: object) -> bool:
        with self._lock:
            return sha256 in self._kept


PICTURES = PictureCache()  # the process's one cache (the chat window's conversations share it)


class StoredPictures:
    """A chat's pictures as the engine is given them, read through `read` (the store's image folder) once,
    then from `cache`; remembers which were missing at the last read, so the chat can say one was left out.
    `warm` reads them ahead (off the GUI thread), so counting and sending never wait on the disk."""

    def __init__(self, read: Callable[[str], bytes], cache: PictureCache = PICTURES) -> None:
        self._read = read
        self.cache = cache
        self.missing: set[str] = set()
        self.loading = False  # being read ahead (the meter counts once they are in)

    def __call__(self, sha256: str) -> bytes:
        data = self.cache.get(sha256)
        if data is not None:
            return data
        try:
            data = self._read(sha256)
        except (KeyError, OSError):
            self.missing.add(sha256)
            raise
        self.missing.discard(sha256)
        self.cache.put(sha256, data)
        return data

    def not_cached(self, shas: Iterable[str]) -> list[str]:
        return [sha for sha in dict.fromkeys(shas) if sha not in self.cache]

    def warm(self, shas: Iterable[str]) -> None:
        """Read these pictures into the cache (a missing one is said when the chat is next given them)."""
        for sha in shas:
            try:
                self.cache.put(sha, self._read(sha))
            except (KeyError, OSError):
                continue
