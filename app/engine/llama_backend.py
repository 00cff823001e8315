"""llama.cpp's process-wide set-up: backend init once, its log kept for error messages, thread count."""

from __future__ import annotations

import ctypes
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import llama_cpp

from app.clib import bind

_backend_ready = False
_log_routed = False
_modules_loaded = False
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


def _route_log() -> None:
    """llama.cpp's log goes to _log_callback (kept for error messages), not to stderr (once)."""
    global _log_routed
    if not _log_routed:
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        _log_routed = True


def load_backend_modules() -> None:
    """Load llama.cpp's backend modules from its library's own folder (once per process).

    A build with GGML_BACKEND_DL=ON (the desktop bundle's: packaging/build_engine.sh) has no
    backend inside libggml: the CPU backend comes as one libggml-cpu-<variant>.so per instruction
    set (x64, AVX2, AVX-512, Zen 4, ...) and a GPU backend as libggml-cuda.so or the like.
    llama.cpp looks for them only beside the executable (here: python) and in the working
    folder, so we point it at the folder the library was loaded from, where it scores every
    CPU variant on this CPU and keeps the best. A build with its backends linked in (what
    `make install` builds) has them registered already and is left alone.
    """
    global _modules_loaded
    if _modules_loaded:
        return
    _modules_loaded = True
    lib = getattr(llama_cpp.llama_cpp, "_lib", None)
    count = bind(lib, "ggml_backend_reg_count", ctypes.c_size_t)
    load_all_from = bind(lib, "ggml_backend_load_all_from_path", None, ctypes.c_char_p)
    if lib is None or count is None or load_all_from is None or count() > 0:
        return
    _route_log()  # "load_backend: loaded CPU backend from ..." is not for the terminal
    load_all_from(os.fsencode(Path(lib._name).parent))


def loaded_cpu_variant() -> str:
    """The CPU backend module llama.cpp chose (e.g. "zen4"); "" where the CPU backend is built in."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                name = line.rstrip().rpartition("/")[2]
                if name.startswith("libggml-cpu-") and name.endswith(".so"):
                    return name[len("libggml-cpu-"):-len(".so")]
    except OSError:  # not Linux
        pass
    return ""


def ensure_backend() -> None:
    """Initialise llama.cpp's backend and route its log to us (once per process)."""
    global _backend_ready
    if not _backend_ready:
        _route_log()
        load_backend_modules()
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
