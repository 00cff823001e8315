"""What this computer offers the engine: GPU backend, GPUs and their memory, RAM.

Also the fit estimate: how many layers of a model fit in free VRAM. No Qt.
"""

from __future__ import annotations

import re
from functools import lru_cache

BACKEND_MARKERS = (
    ("CUDA", "cuda"),
    ("METAL", "metal"),
    ("VULKAN", "vulkan"),
    ("HIP", "rocm"),
    ("ROCM", "rocm"),
    ("SYCL", "sycl"),
)


@lru_cache(maxsize=1)
def system_info() -> str:
    """llama.cpp's own build summary (compiled backends and CPU features)."""
    try:
        import llama_cpp

        return llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    except Exception:
        return ""


def backend_from_system_info(info: str) -> str:
    upper = info.upper()
    for marker, name in BACKEND_MARKERS:
        if re.search(rf"\b{marker}\s*:", upper):
            return name
    return "none"


def gpu_backend() -> str:
    """The GPU backend compiled into the installed llama.cpp: cuda, metal, vulkan, rocm, sycl or none."""
    return backend_from_system_info(system_info())
