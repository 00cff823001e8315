"""The C library of this process, for the few calls Python's os module does not offer."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def libc() -> ctypes.CDLL | None:
    """The C runtime (msvcrt on Windows), or None if it cannot be opened."""
    try:
        if sys.platform == "win32":
            return ctypes.cdll.msvcrt
        name = ctypes.util.find_library("c")
        return ctypes.CDLL(name) if name else ctypes.CDLL(None)
    except OSError:
        return None


def libc_function(name: str):
    """libc's function `name`, or None where this C library lacks it."""
    lib = libc()
    return getattr(lib, name, None) if lib is not None else None
