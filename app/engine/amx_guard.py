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
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from app import hardware, paths

FAULT_FILE = "amx-faulted"
PROBE_PREFIX = "amx-probe-"
CRASH_SIGNALS = (signal.SIGILL, signal.SIGSEGV, signal.SIGBUS)
AVOIDED_NOTICE = (
    "llama.cpp's AMX kernels crashed on this CPU before, so models load without AMX and weight "
    "repacking (prompts run slower); `make rebuild-engine` builds llama.cpp without AMX at full speed"
)
CRASH_MESSAGE = (
    "the engine crashed in llama.cpp's AMX code, a known llama.cpp fault on some Intel Xeon hosts; "
    "the next message reloads the model without AMX"
)


def compiled_in(system_info: str | None = None) -> bool:
    """Whether the installed llama.cpp has AMX kernels (its system info lists `AMX_INT8 = 1`)."""
    info = hardware.system_info() if system_info is None else system_info
    return "AMX_INT8 = 1" in info


def _folder() -> Path:
    return paths.engine_state_dir()


def _probe_path(pid: int, folder: Path | None = None) -> Path:
    return (folder or _folder()) / f"{PROBE_PREFIX}{pid}"


def avoid(system_info: str | None = None, folder: Path | None = None) -> bool:
    """True when AMX is in this build and crashed on this host before."""
    return compiled_in(system_info) and ((folder or _folder()) / FAULT_FILE).exists()


@contextlib.contextmanager
def probe(folder: Path | None = None) -> Iterator[None]:
    """Mark this process as computing with AMX for the first time until the block ends.

    Never fails the computation: a folder that cannot be written only means no fallback later.
    """
    path = _probe_path(os.getpid(), folder)
    try:
        path.write_text(f"{time.time():.0f}\n", encoding="utf-8")
    except OSError:
        path = None
    try:
        yield
    finally:
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def record_exit(pid: int | None, exitcode: int | None, folder: Path | None = None) -> bool:
    """After a worker ended: was it killed by a crash signal during its first AMX computation?

    Writes the fault marker if so, and always removes the worker's probe.
    """
    if pid is None:
        return False
    path = _probe_path(pid, folder)
    if not path.exists():
        return False
    crashed = exitcode is not None and exitcode < 0 and -exitcode in CRASH_SIGNALS
    with contextlib.suppress(OSError):
        if crashed:
            (path.parent / FAULT_FILE).write_text(
                f"worker {pid} died of signal {-exitcode} at {time.ctime()}\n", encoding="utf-8")
        path.unlink(missing_ok=True)
    return crashed


def resend_after_crash(send: Callable[[], Iterator]) -> Iterator:
    """The events of `send()`, or, if they end in CRASH_MESSAGE, those of one more `send()`.

    That crash can only happen while a model's first prompt is evaluated, before any token,
    so the second try, on the model reloaded without AMX, is the whole reply.
    """
    first = send()
    for event in first:
        if getattr(event, "message", None) == CRASH_MESSAGE:
            first.close()
            yield from send()
            return
        yield event
