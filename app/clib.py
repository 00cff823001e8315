"""C functions called straight through ctypes: the C library's, for the few calls Python's os
module does not offer, and any loaded library's (llama_backend.c_function)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
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


def bind(lib: ctypes.CDLL | None, name: str, restype, *argtypes) -> Callable | None:
    """`lib`'s C function `name` with this signature, or None where the library lacks it."""
    if lib is None or not hasattr(lib, name):
        return None
    return ctypes.CFUNCTYPE(restype, *argtypes)((name, lib))


def libc_function(name: str, restype, *argtypes) -> Callable | None:
    """The C library's function `name` with this signature, or None where it lacks it."""
    return bind(libc(), name, restype, *argtypes)
