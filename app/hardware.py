"""What this computer offers the engine, and how much of a model fits where.

- the GPU backend compiled into the installed llama.cpp (CUDA, Metal, Vulkan,
  ROCm/HIP, SYCL or none), from llama.cpp's own system info;
- the GPUs with total and free memory: NVML (nvidia-ml-py) when an NVIDIA driver
  is there, otherwise llama.cpp's device registry (Metal reports unified memory);
- free RAM;
- fit estimates: the most layers that fit free VRAM, and whether a file of a
  given size will run fully on the GPU, partly, on the CPU only, or not at all.
No Qt.
"""

from __future__ import annotations

import ctypes
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache

from app.load_limits import CONTEXT_DEFAULT

GIB = 1024**3
BACKEND_MARKERS = (("CUDA", "cuda"), ("METAL", "metal"), ("VULKAN", "vulkan"), ("HIP", "rocm"),
                   ("ROCM", "rocm"), ("SYCL", "sycl"))
KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
VRAM_MARGIN_BYTES = 512 * 1024**2  # driver, compute buffers and other programs
VRAM_MARGIN_FRACTION = 0.05


@dataclass(frozen=True)
class GpuDevice:
    name: str
    total_bytes: int
    free_bytes: int
    source: str  # "nvml" or "llama.cpp"
    unified: bool = False  # shares system memory (Apple silicon, integrated GPUs)


# ---------------------------------------------------------------- backend


@lru_cache(maxsize=1)
def system_info() -> str:
    """llama.cpp's own build summary (compiled backends and CPU features)."""
    try:
        import llama_cpp

        from app.engine.llama_backend import load_backend_modules

        load_backend_modules()  # a bundle's engine: its CPU and GPU backends are separate modules
        return llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    except Exception:  # noqa: BLE001 - a broken llama.cpp build only means no summary to show
        return ""


def backend_from_system_info(info: str) -> str:
    upper = info.upper()
    for marker, name in BACKEND_MARKERS:
        if re.search(rf"(^|[|\s]){marker}\s*:", upper):
            return name
    return "none"


def gpu_backend() -> str:
    """The GPU backend compiled into the installed llama.cpp: cuda, metal, vulkan, rocm, sycl or none."""
    return backend_from_system_info(system_info())


def supports_gpu_offload() -> bool:
    """True only if llama.cpp has a GPU backend and sees a device at run time."""
    try:
        import llama_cpp

        from app.engine.llama_backend import load_backend_modules

        load_backend_modules()
        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001 - a broken llama.cpp build offloads nothing
        return False


# ---------------------------------------------------------------- devices


def nvml_devices() -> list[GpuDevice]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - NVML without a driver raises its own errors: no NVIDIA GPU to list
        return []
    try:
        devices = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            devices.append(GpuDevice(name.decode() if isinstance(name, bytes) else name,
                                     int(memory.total), int(memory.free), "nvml"))
        return devices
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - the devices are already read
            pass


def _ggml_devices() -> list[GpuDevice]:
    """GPUs (and integrated GPUs) in llama.cpp's device registry."""
    try:
        from llama_cpp import _ggml

        from app.engine.llama_backend import load_backend_modules

        load_backend_modules()
        lib = _ggml.libggml
        lib.ggml_backend_dev_count.restype = ctypes.c_size_t
        lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
        lib.ggml_backend_dev_get.restype = ctypes.c_void_p
        for fn in (lib.ggml_backend_dev_name, lib.ggml_backend_dev_description):
            fn.argtypes = [ctypes.c_void_p]
            fn.restype = ctypes.c_char_p
        lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
        lib.ggml_backend_dev_type.restype = ctypes.c_int
        lib.ggml_backend_dev_memory.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                               ctypes.POINTER(ctypes.c_size_t)]
        lib.ggml_backend_dev_memory.restype = None
    except Exception:  # noqa: BLE001 - an older or broken libggml lacks the registry: no devices from it
        return []
    devices = []
    for i in range(lib.ggml_backend_dev_count()):
        dev = lib.ggml_backend_dev_get(i)
        kind = lib.ggml_backend_dev_type(dev)
        if kind not in (1, 2):  # GPU, integrated GPU
            continue
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        desc = (lib.ggml_backend_dev_description(dev) or b"").decode(errors="replace")
        name = (lib.ggml_backend_dev_name(dev) or b"").decode(errors="replace")
        devices.append(GpuDevice(desc or name, int(total.value), int(free.value), "llama.cpp", unified=kind == 2
                                 or gpu_backend() == "metal"))
    return devices


def gpu_devices() -> list[GpuDevice]:
    return nvml_devices() or _ggml_devices()


def nvidia_gpu_present() -> bool:
    """A GPU is there even if llama.cpp cannot use it (for doctor's advice)."""
    return bool(nvml_devices()) or shutil.which("nvidia-smi") is not None


def free_ram_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def total_ram_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def free_vram_bytes() -> int:
    """Free memory of the first GPU llama.cpp can use; 0 without a GPU backend."""
    if gpu_backend() == "none":
        return 0
    devices = gpu_devices()
    return devices[0].free_bytes if devices else 0


# ---------------------------------------------------------------- fit estimates


@dataclass(frozen=True)
class LayerFit:
    n_gpu_layers: int  # what to pass to llama.cpp (n_layers + 1 means everything, output included)
    n_total: int  # n_layers + 1
    gpu_bytes: int  # weights plus KV cache that go to the GPU
    total_bytes: int  # the whole model plus its KV cache
    kv_bytes: int
    free_vram: int


def kv_cache_bytes(n_layers: int, n_ctx: int, n_embd: int, n_head: int, n_head_kv: int, kv_type: str = "f16",
                   key_length: int = 0, value_length: int = 0) -> int:
    """The KV cache's bytes; per-head K and V sizes from the header when it gives them (Gemma: 256, not
    n_embd / n_head). app/library/memory_plan.py plans every other part of a load as well."""
    head_dim = n_embd // max(n_head, 1)
    widths = (key_length or head_dim) + (value_length or head_dim)
    per_token = n_layers * n_head_kv * widths * KV_BYTES_PER_ELEMENT.get(kv_type, 2.0)
    return int(per_token * n_ctx)


def fit_gpu_layers(info, n_ctx: int, kv_type: str = "f16", free_vram: int | None = None) -> LayerFit:
    """The most layers of this model (a GGUFInfo) whose weights and KV cache fit free VRAM.

    llama.cpp offloads the last layers first and the output layer last, so
    n_layers + 1 means the whole model is on the GPU.
    """
    free = free_vram_bytes() if free_vram is None else free_vram
    n_layers = max(info.n_layers, 1)
    kv_total = kv_cache_bytes(n_layers, n_ctx, info.embedding_length, info.n_head, info.n_head_kv, kv_type,
                              getattr(info, "key_length", 0), getattr(info, "value_length", 0))
    kv_layer = kv_total / n_layers
    layers = list(info.layer_bytes) or [info.size_bytes // n_layers] * n_layers
    budget = free - VRAM_MARGIN_BYTES - VRAM_MARGIN_FRACTION * free
    used = 0.0
    count = 0
    for layer in reversed(layers):
        cost = layer + kv_layer
        if used + cost > budget:
            break
        used += cost
        count += 1
    output = info.other_bytes
    if count == n_layers and used + output <= budget:
        used += output
        count = n_layers + 1
    total = int(sum(layers) + output + kv_total)
    return LayerFit(count, n_layers + 1, int(used), total, kv_total, int(free))


def describe_fit(fit: LayerFit) -> str:
    if fit.free_vram <= 0:
        return "No GPU memory found: the model runs on the CPU."
    where = "all" if fit.n_gpu_layers >= fit.n_total else f"{fit.n_gpu_layers} of {fit.n_total}"
    return f"{where} layers on the GPU, about {fit.gpu_bytes / 1e9:.1f} GB (of {fit.free_vram / 1e9:.1f} GB free)"


def machine_fit(size_bytes: int, n_ctx: int = CONTEXT_DEFAULT, free_vram: int | None = None,
                free_ram: int | None = None, quant: str = "") -> str:
    """For a file not yet downloaded: "full_gpu", "partial", "cpu" or "too_large".

    Judged by the memory plan (library/memory_plan.py) of a typical model of the file's size and
    quantization (library/size_plan.py: without the header, the shape of a common model that size).
    """
    from app.library.size_plan import plan_for_size

    vram = free_vram_bytes() if free_vram is None else free_vram
    ram = free_ram_bytes() if free_ram is None else free_ram
    on_gpu = plan_for_size(size_bytes, n_ctx, quant, n_gpu_layers=-1)
    if vram > 0 and on_gpu.gpu_bytes + VRAM_MARGIN_BYTES <= vram * (1 - VRAM_MARGIN_FRACTION):
        return "full_gpu"
    on_cpu = plan_for_size(size_bytes, n_ctx, quant)
    if vram > 0 and on_cpu.peak_bytes <= vram + ram:
        return "partial"
    if on_cpu.peak_bytes <= ram:
        return "cpu"
    return "too_large"


FIT_LABELS = {"full_gpu": "Fits the GPU", "partial": "Partly on GPU", "cpu": "CPU only", "too_large": "Too large"}
