"""A stop flag that llama.cpp can poll while it evaluates a prompt, without calling into Python.

llama.cpp asks its abort callback after every node of the compute graph: about 600 times
for a short prompt batch of a 30-layer model. A Python callback takes the GIL on a compute
thread each time, while the other threads wait at the next barrier; measured on SmolLM2 it
cost between nothing and 1.7% of a 33-token prompt (docs/BENCHMARKS.md), and it would
stall the prompt whenever another Python thread held the GIL.

The callback's C type is `bool (*)(void * data)`. The C library's `strlen`, given a
two-byte buffer {flag, NUL}, returns 0 or 1: exactly that bool, computed in a few
nanoseconds on llama.cpp's own thread. Where `strlen` cannot be found, a Python callback
reads the same byte.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp

from app.clib import libc_function


class AbortFlag:
    """Set from any thread to stop the evaluation in progress; `callback` and `data` go to llama.cpp."""

    def __init__(self) -> None:
        self._buf = ctypes.create_string_buffer(2)  # {flag, NUL}: strlen() is the flag
        self.data = ctypes.cast(self._buf, ctypes.c_void_p)
        strlen: Any = libc_function("strlen", ctypes.c_size_t, ctypes.c_void_p)  # a ctypes function pointer
        if strlen is not None:
            self.callback = ctypes.cast(strlen, llama_cpp.ggml_abort_callback)
            self.in_python = False
        else:
            buf = self._buf
            self.callback = llama_cpp.ggml_abort_callback(lambda _data: buf.raw[0] != 0)
            self.in_python = True

    def set(self) -> None:
        self._buf[0] = b"\x01"

    def clear(self) -> None:
        self._buf[0] = b"\x00"

    def is_set(self) -> bool:
        return self._buf.raw[0] != 0
