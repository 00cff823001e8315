"""The chats' images: each stored once, in the folder beside the database, named by its SHA-256.

A message's ImagePart names the file; two messages (or two chats) with the same picture share it.
Files are written before the message that names them, so a message never names a missing file;
a file no message names any more is removed by `remove_unused` (after a chat is deleted).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

_NAME = re.compile(r"^[0-9a-f]{64}$")


class ImageFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, sha256: str) -> Path:
        if not _NAME.match(sha256):
            raise KeyError(sha256)  # a damaged or hostile row never names a path outside the folder
        return self.folder / sha256[:2] / sha256

    def save(self, data: bytes) -> str:
        """Write the image once (atomically) and return its SHA-256; OSError when the disk refuses."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha)
        if path.exists():
            try:  # touched: a cleanup that began before this save (remove_unused's `before`) leaves it
                os.utime(path)
            except OSError:
                pass
            return sha
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        return sha

    def read(self, sha256: str) -> bytes:
        """The image's bytes; KeyError when it is not here (OSError when it cannot be read)."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise KeyError(sha256) from None

    def remove_unused(self, used: Iterable[str], before: float | None = None) -> int:
        """Delete the files no message names; how many went. With `before` (a time), only files last
        written before it: one saved since `used` was read may be named by a message not yet written."""
        keep = set(used)
        gone = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.glob("??/*"):
            if _NAME.match(path.name) and path.name not in keep:
                if before is not None and path.stat().st_mtime >= before:
                    continue
                path.unlink(missing_ok=True)
                gone += 1
        return gone
