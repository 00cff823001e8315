"""Notice once that llama.cpp's AMX kernels crash on this host, and load models without them after.

Hearth's own install builds llama.cpp without AMX (see the Makefile), but a llama-cpp-python
built elsewhere may have it, and on some Intel Xeon hosts its first matrix multiply dies with
SIGILL or SIGSEGV (llama.cpp issue 20824). Every reply would then crash the engine again.

How it is noticed, across the two processes:
- the worker leaves a probe file named after its pid around the first prompt a model evaluates;
- the client, seeing that worker die of a crash signal with its probe still there, writes the
  fault marker (a kill for a hang, or at close, only removes the probe);
- later loads see the marker and turn off llama.cpp's extra weight buffers (AMX and the CPU
  repacking that shares the switch), which runs everywhere, with slower prompts on some quants.

No Qt here; the folder is paths.engine_state_dir() (tests point it elsewhere with HEARTH_HOME).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from app import hardware, paths

FAULT_FILE = "amx-faulted"
PROBE_PREFIX = "amx-probe-"
CRASH_SIGNALS = (signal.SIGILL, signal.SIGSEGV)  # not SIGBUS: that is a model file cut short under its map
AVOIDED_NOTICE = (
    "llama.cpp's AMX kernels crashed on this CPU before, so models load without AMX and weight "
    "repacking (prompts run slower); `make rebuild-engine` (with your CMAKE_ARGS for a GPU backend) "
    "builds llama.cpp without AMX at full speed"
)
CRASH_MESSAGE = (
    "the engine crashed in llama.cpp's AMX code, a known llama.cpp fault on some Intel Xeon hosts; "
    "the next message reloads the model without AMX"
)


def compiled_in(system_info: str | None = None) -> bool:
    """Whether the installed llama.cpp has AMX kernels (its system info lists `AMX_INT8 = 1`)."""
    info = hardware.system_info() if system_info is None else system_info
    return "AMX_INT8 = 1" in info


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU offers AMX (ggml uses its AMX buffer only then); True where we cannot tell."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as lines:
            return any(line.startswith("flags") and " amx_int8" in line for line in lines)
    except OSError:
        return True


def in_use(system_info: str | None = None) -> bool:
    """Whether models loaded here may compute with AMX: in the build, and on this CPU."""
    return compiled_in(system_info) and cpu_has_amx()


def build_id(system_info: str | None = None) -> str:
    """Which llama.cpp a fault belongs to: another build (a rebuild, an upgrade) starts afresh."""
    info = hardware.system_info() if system_info is None else system_info
    try:
        version = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        version = "?"
    return f"llama-cpp-python {version}: {info.strip()}\n"


def _folder(create: bool = False) -> Path:
    return paths.engine_state_dir(create)  # only a probe makes the folder; reading it never does


def _probe_path(pid: int, folder: Path | None = None, create: bool = False) -> Path:
    return (folder or _folder(create)) / f"{PROBE_PREFIX}{pid}"


def avoid(system_info: str | None = None, folder: Path | None = None) -> bool:
    """True when this build has AMX and it crashed on this host before."""
    if not compiled_in(system_info):
        return False
    try:
        fault = ((folder or _folder()) / FAULT_FILE).read_text(encoding="utf-8")
    except OSError:
        return False
    return fault == build_id(system_info)


@contextlib.contextmanager
def probe(folder: Path | None = None) -> Iterator[None]:
    """Mark this process as computing with AMX for the first time until the block ends.

    Never fails the computation: a folder that cannot be written only means no fallback later.
    """
    path = _probe_path(os.getpid(), folder, create=True)
    try:
        path.write_text(build_id(), encoding="utf-8")
        written = True
    except OSError:
        written = False
    try:
        yield
    finally:
        if written:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def forget_probe(pid: int | None, folder: Path | None = None) -> None:
    """Remove a probe left under this pid by an earlier process (pids come round again)."""
    if pid is not None:
        with contextlib.suppress(OSError):
            _probe_path(pid, folder).unlink(missing_ok=True)


def record_exit(pid: int | None, exitcode: int | None, folder: Path | None = None) -> bool:
    """After a worker ended: was it killed by a crash signal during its first AMX computation?

    If so the probe becomes the fault marker (it names the build); otherwise it is removed.
    A worker still running (exitcode None) keeps its probe.
    """
    if pid is None or exitcode is None:
        return False
    path = _probe_path(pid, folder)
    try:
        build = path.read_text(encoding="utf-8")
    except OSError:
        return False
    crashed = exitcode < 0 and -exitcode in CRASH_SIGNALS
    with contextlib.suppress(OSError):
        if crashed:
            (path.parent / FAULT_FILE).write_text(build, encoding="utf-8")
        path.unlink(missing_ok=True)
    return crashed
