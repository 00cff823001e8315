"""`hearth doctor`: what the engine can use on this machine, and how to fix a missing GPU backend."""

from __future__ import annotations

import platform
import shlex
import sys
from pathlib import Path

from app import hardware, paths
from app.engine import amx_guard

GPU_FLAGS = {"cuda": "-DGGML_CUDA=on", "metal": "-DGGML_METAL=on", "rocm": "-DGGML_HIP=on",
             "vulkan": "-DGGML_VULKAN=on"}
PIP_REBUILD = 'CMAKE_ARGS="{flags}" {pip} install --force-reinstall --no-cache-dir llama-cpp-python=={version}'
# In a source checkout the Makefile's rebuild keeps its build flags (AMX left out: amx_guard).
MAKE_REBUILD = 'CMAKE_ARGS="{flags}" make -C {root} rebuild-engine'
SOURCE_ROOT = Path(__file__).resolve().parents[1]


# The single-file bundle has no pip or compiler to rebuild with: a GPU bundle is built from the source.
BUNDLE_REBUILD = ("make bundle ENGINE_FLAVOR={vendor} BUNDLE_CMAKE_ARGS={flags}"
                  "  (in a source checkout: packaging/README.md)")


def rebuild_command(vendor: str, version: str) -> str:
    """The command that builds llama-cpp-python with this GPU vendor's backend."""
    if getattr(sys, "frozen", False):
        return BUNDLE_REBUILD.format(vendor=vendor, flags=GPU_FLAGS[vendor])
    if (SOURCE_ROOT / "Makefile").is_file() and Path(sys.prefix).resolve() == (SOURCE_ROOT / ".venv").resolve():
        return MAKE_REBUILD.format(flags=GPU_FLAGS[vendor], root=shlex.quote(str(SOURCE_ROOT)))
    return PIP_REBUILD.format(flags=GPU_FLAGS[vendor], pip=f"{sys.executable} -m pip", version=version)


def _detected_gpu_vendor() -> str:
    if hardware.nvidia_gpu_present():
        return "cuda"
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "metal"
    try:
        if Path("/dev/kfd").exists():
            return "rocm"
    except OSError:
        pass
    return ""


def diagnose() -> dict:
    from importlib import metadata

    # imports llama.cpp, as hardware's look at it does anyway
    from app.engine import llama_backend

    version = metadata.version("llama-cpp-python")
    system_info = hardware.system_info()
    backend = hardware.gpu_backend()
    devices = hardware.gpu_devices() if backend != "none" else []
    if not devices:
        devices = hardware.nvml_devices()  # seen by the driver even if llama.cpp cannot use it
    vendor = _detected_gpu_vendor()
    advice = ""
    if backend == "none" and vendor:
        advice = rebuild_command(vendor, version)
    return {
        "llama_cpp_python": version,
        "gpu_backend": backend,
        "gpu_offload_usable": hardware.supports_gpu_offload(),
        "system_info": system_info.strip(),
        "devices": [{"name": d.name, "total_bytes": d.total_bytes, "free_bytes": d.free_bytes, "source": d.source,
                     "unified_memory": d.unified} for d in devices],
        "ram_total_bytes": hardware.total_ram_bytes(),
        "ram_free_bytes": hardware.free_ram_bytes(),
        "folders": {"data": str(paths.data_dir(create=False)), "models": str(paths.models_dir(create=False)),
                    "config": str(paths.config_dir(create=False)), "logs": str(paths.log_dir(create=False)),
                    "database": str(paths.database_path(create=False))},
        "gpu_present_without_backend": bool(backend == "none" and vendor),
        "reinstall_with_gpu": advice,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_variant": llama_backend.loaded_cpu_variant(),
        "amx_compiled_in": amx_guard.compiled_in(system_info),
        "amx_faulted": amx_guard.avoid(system_info, paths.engine_state_dir(create=False)),
    }


def format_report(r: dict) -> str:
    gb = 1e9
    lines = [
        f"llama-cpp-python {r['llama_cpp_python']} · Python {r['python']} · {r['platform']}",
        f"GPU backend: {r['gpu_backend']}" + (" (usable)" if r["gpu_offload_usable"] else ""),
    ]
    for d in r["devices"]:
        lines.append(f"  GPU: {d['name']}: {d['free_bytes'] / gb:.1f} GB free of {d['total_bytes'] / gb:.1f} GB"
                     + (" (unified memory)" if d["unified_memory"] else ""))
    if not r["devices"]:
        lines.append("  no GPU found: models run on the CPU")
    lines.append(f"RAM: {r['ram_free_bytes'] / gb:.1f} GB free of {r['ram_total_bytes'] / gb:.1f} GB")
    lines.append(f"llama.cpp: {r['system_info']}")
    if r.get("cpu_variant"):  # a bundle's engine: one CPU backend per instruction set, the best one loaded
        lines.append(f"llama.cpp CPU backend: {r['cpu_variant']} (chosen for this CPU at start)")
    if r["amx_faulted"]:
        lines.append("AMX: this llama.cpp has AMX kernels and they crashed on this CPU, so models load without "
                     "them and without weight repacking; `make rebuild-engine` (with your CMAKE_ARGS for a GPU "
                     "backend) builds it without AMX at full speed")
    elif r["amx_compiled_in"]:
        lines.append("AMX: this llama.cpp has AMX kernels (not built by `make install`); if they crash on this "
                     "CPU, Hearth notices and loads models without them")
    for name, folder in r["folders"].items():
        lines.append(f"{name:9s} {folder}")
    if r["reinstall_with_gpu"]:
        lines.append("A GPU is present but this llama.cpp has no GPU backend. To use it, run:")
        lines.append(f"  {r['reinstall_with_gpu']}")
    return "\n".join(lines)
