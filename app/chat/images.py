"""Images a conversation holds: an ImagePart names the bytes by their SHA-256; an ImageBank has them.

The app's bank is the store's image folder (app/store/images.py, each image once, by content hash);
a request that is not stored (`hearth chat --image`, an API request) keeps its images in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
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



class StoredPictures:
    """A chat's pictures as the engine is given them, read through `read` (the store's image folder);
    remembers which were missing at the last read, so the chat can say one left out of the prompt."""

    def __init__(self, read: Callable[[str], bytes]) -> None:
        self._read = read
        self.missing: set[str] = set()

    def __call__(self, sha256: str) -> bytes:
        try:
            data = self._read(sha256)
        except (KeyError, OSError):
            self.missing.add(sha256)
            raise
        self.missing.discard(sha256)
        return data
