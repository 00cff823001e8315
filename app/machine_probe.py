"""One look at what this computer offers the engine: GPU backend, devices and memory.

The GUI never probes in its own process: importing llama.cpp or NVML there can create
a CUDA context that holds VRAM the engine then lacks, and an NVML init can take seconds.
It runs `python -m app.machine_probe` instead, which prints one JSON object, and keeps
the result until the user asks for a refresh. The CLI may call `probe_machine()` directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from app import hardware

PROBE_TIMEOUT_SECONDS = 30.0


class ProbeError(RuntimeError):
    """The probe process failed or timed out; the message says so plainly."""


@dataclass(frozen=True)
class MachineProbe:
    backend: str  # the GPU backend llama.cpp was built with: cuda, metal, vulkan, rocm, sycl or none
    offload: bool  # llama.cpp has a GPU backend and sees a device now
    devices: tuple[hardware.GpuDevice, ...] = ()
    free_ram: int = 0
    total_ram: int = 0
    probed_at: float = field(default_factory=time.time)

    @property
    def usable_backend(self) -> str:
        """The backend the engine can offload to, or "none"."""
        return self.backend if self.offload else "none"

    @property
    def free_vram(self) -> int:
        """Free memory of the first GPU llama.cpp can use (0 without one)."""
        return self.devices[0].free_bytes if self.offload and self.devices else 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> MachineProbe:
        data = json.loads(text)
        devices = tuple(hardware.GpuDevice(**d) for d in data.pop("devices", ()))
        return cls(devices=devices, **data)


def probe_machine() -> MachineProbe:
    """Probe in this process (the engine, the CLI, or the probe process itself)."""
    backend = hardware.gpu_backend()
    offload = hardware.supports_gpu_offload()
    devices = tuple(hardware.gpu_devices()) if backend != "none" else ()
    return MachineProbe(backend, offload, devices, hardware.free_ram_bytes(), hardware.total_ram_bytes())


def probe_in_subprocess(timeout: float = PROBE_TIMEOUT_SECONDS) -> MachineProbe:
    """Probe in a short-lived process, so llama.cpp and NVML never load into the caller."""
    try:
        done = subprocess.run([sys.executable, "-m", "app.machine_probe"], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ProbeError(f"checking the GPU took more than {timeout:.0f} s; the model runs with automatic "
                         "settings (Refresh in the Models menu tries again)") from None
    except OSError as exc:
        raise ProbeError(f"could not start the hardware check: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ProbeError(f"the hardware check failed: {last}")
    try:
        return MachineProbe.from_json(done.stdout.strip().splitlines()[-1])
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ProbeError(f"the hardware check gave an answer Hearth cannot read: {exc}") from exc


if __name__ == "__main__":
    print(probe_machine().to_json())
