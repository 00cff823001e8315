"""llama.cpp's process-wide set-up: backend init once, its log kept for error messages, thread count."""

from __future__ import annotations

import ctypes
import os
import re
import threading
from collections.abc import Callable
from typing import Any

import llama_cpp

from app.clib import bind

_backend_ready = False
_log_lock = threading.Lock()
_log_tail: list[str] = []
_amx_weights = threading.Event()  # llama.cpp put weights in its AMX buffer (amx_guard)
_buffers: dict[str, int] = {}  # llama.cpp's buffer sizes said by the loads since buffer_sizes(forget=True)
_BUFFER_LINE = re.compile(r":\s+(?P<name>\S.*?)\s+buffer size\s*=\s*(?P<mib>[0-9.]+) MiB")
WARN, ERROR = 3, 4  # ggml_log_level


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]  # ctypes' CFUNCTYPE is untyped
def _log_callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    # Keep the last lines so a failed load can say what llama.cpp complained about.
    if level in (WARN, ERROR):
        with _log_lock:
            _log_tail.append(text.decode("utf-8", errors="replace").strip())
            del _log_tail[:-20]
    elif b"buffer size" in text:  # an info line of each load: the memory it took (AMX weights too)
        if b" AMX model buffer size" in text:
            _amx_weights.set()
        _note_buffer(text.decode("utf-8", errors="replace"))


def _note_buffer(line: str) -> None:
    found = _BUFFER_LINE.search(line)
    if found:
        name = " ".join(found["name"].split())
        with _log_lock:
            _buffers[name] = _buffers.get(name, 0) + int(float(found["mib"]) * 1024 * 1024)


def buffer_sizes(forget: bool = False) -> tuple[tuple[str, int], ...]:
    """llama.cpp's buffers ("CPU KV", "CPU_Mapped model", ...) and their bytes, as its log said them."""
    with _log_lock:
        sizes = tuple(_buffers.items())
        if forget:
            _buffers.clear()
    return sizes


def amx_weights_loaded(forget: bool = False) -> bool:
    """Whether a load since the last `forget` put weights in llama.cpp's AMX buffer."""
    seen = _amx_weights.is_set()
    if forget:
        _amx_weights.clear()
    return seen


def c_function(name: str, restype: Any, *argtypes: Any) -> Callable[..., Any] | None:
    """llama.cpp's C function `name` called straight through ctypes; None if this build lacks it.

    For functions llama-cpp-python does not bind, or binds with a wrapper that costs too
    much on a per-token path."""
    return bind(getattr(llama_cpp.llama_cpp, "_lib", None), name, restype, *argtypes)


def ensure_backend() -> None:
    """Initialise llama.cpp's backend and route its log to us (once per process)."""
    global _backend_ready
    if not _backend_ready:
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        _backend_ready = True


def last_log() -> str:
    """llama.cpp's last warning or error since the previous call ("" if none)."""
    with _log_lock:
        lines = [line for line in _log_tail if line]
        _log_tail.clear()
    return lines[-1] if lines else ""


def recent_log() -> list[str]:
    """llama.cpp's warnings and errors since the previous call, oldest first (a failed load picks its reason)."""
    with _log_lock:
        lines = [line for line in _log_tail if line]
        _log_tail.clear()
    return lines


def default_threads() -> int:
    try:
        import psutil

        return max(psutil.cpu_count(logical=False) or 1, 1)
    except Exception:  # noqa: BLE001 (psutil missing or failing: count from os)
        return max((os.cpu_count() or 2) // 2, 1)
