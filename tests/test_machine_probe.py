"""The hardware probe: one JSON object from a short-lived process, and plain errors when it fails."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import machine_probe
from app.hardware import GpuDevice
from app.machine_probe import MachineProbe, ProbeError, probe_in_subprocess


def test_a_probe_survives_the_trip_through_json():
    probe = MachineProbe("cuda", True, (GpuDevice("GPU 0", 24 << 30, 20 << 30, "nvml"),), 8 << 30, 16 << 30, 5.0)
    back = MachineProbe.from_json(probe.to_json())
    assert back == probe
    assert back.free_vram == 20 << 30 and back.usable_backend == "cuda"
    assert MachineProbe("cuda", False, probe.devices).free_vram == 0  # no offload: no VRAM to count


def test_the_probe_runs_in_its_own_process_and_leaves_llama_cpp_out_of_this_one():
    script = ("import sys; from app.machine_probe import probe_in_subprocess; p = probe_in_subprocess(); "
              "print(p.backend, p.total_ram > 0, 'llama_cpp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    backend, has_ram, imported = out.stdout.split()
    assert backend in ("none", "cuda", "metal", "vulkan", "rocm", "sycl")
    assert has_ram == "True" and imported == "False"


def test_a_failing_or_hanging_probe_is_one_plain_error(monkeypatch):
    def crashed(*_args, **_kwargs):
        return subprocess.CompletedProcess([], 1, "", "Traceback...\nOSError: libcuda.so: cannot open\n")

    monkeypatch.setattr(machine_probe.subprocess, "run", crashed)
    with pytest.raises(ProbeError, match=r"libcuda\.so: cannot open"):
        probe_in_subprocess()

    def hung(*_args, **kwargs):
        raise subprocess.TimeoutExpired("probe", kwargs["timeout"])

    monkeypatch.setattr(machine_probe.subprocess, "run", hung)
    with pytest.raises(ProbeError, match="took more than 3 s"):
        probe_in_subprocess(timeout=3)

    monkeypatch.setattr(machine_probe.subprocess, "run",
                        lambda *_a, **_k: subprocess.CompletedProcess([], 0, "not json\n", ""))
    with pytest.raises(ProbeError, match="cannot read"):
        probe_in_subprocess()
