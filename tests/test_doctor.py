"""`hearth doctor`'s report: what this machine offers and, for a GPU the build cannot use, the fix."""

from __future__ import annotations

from app import doctor, hardware


def test_this_cpu_build_is_reported_with_memory_and_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "home"))
    report = doctor.diagnose()
    assert report["gpu_backend"] == "none" and report["ram_total_bytes"] > 0
    assert report["folders"]["database"].startswith(str(tmp_path / "home"))
    assert not (tmp_path / "home").exists()  # diagnosing creates no folders
    text = doctor.format_report(report)
    assert "GPU backend: none" in text and "RAM:" in text and "no GPU found" in text


def test_an_nvidia_gpu_without_a_cuda_build_gets_the_rebuild_command(monkeypatch):
    monkeypatch.setattr(hardware, "gpu_backend", lambda: "none")
    monkeypatch.setattr(hardware, "nvidia_gpu_present", lambda: True)
    rtx_4090 = hardware.GpuDevice("RTX 4090", 24 * 10**9, 20 * 10**9, "nvml")
    monkeypatch.setattr(hardware, "nvml_devices", lambda: [rtx_4090])
    report = doctor.diagnose()
    assert report["gpu_present_without_backend"]
    assert 'CMAKE_ARGS="-DGGML_CUDA=on"' in report["reinstall_with_gpu"]
    text = doctor.format_report(report)
    assert "GPU: RTX 4090: 20.0 GB free of 24.0 GB" in text
    assert "A GPU is present but this llama.cpp has no GPU backend" in text


def test_amx_in_the_build_and_a_crash_it_caused_are_reported(monkeypatch):
    from app import paths
    from app.engine import amx_guard

    monkeypatch.setattr(hardware, "system_info", lambda: "CPU : AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 |")
    text = doctor.format_report(doctor.diagnose())
    assert "AMX: this llama.cpp has AMX kernels (not built by `make install`)" in text

    (paths.engine_state_dir() / amx_guard.FAULT_FILE).write_text(amx_guard.build_id())
    text = doctor.format_report(doctor.diagnose())
    assert "they crashed on this CPU" in text and "make rebuild-engine" in text

    monkeypatch.setattr(hardware, "system_info", lambda: "CPU : AVX512 = 1 | OPENMP = 1 |")
    assert "AMX" not in doctor.format_report(doctor.diagnose())


def test_the_gpu_rebuild_goes_through_the_makefile_in_a_checkout(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor.sys, "prefix", str(doctor.SOURCE_ROOT / ".venv"))  # the checkout's own venv
    assert doctor.rebuild_command("cuda", "0.3.36") == (f'CMAKE_ARGS="-DGGML_CUDA=on" make -C {doctor.SOURCE_ROOT} '
                                                        "rebuild-engine")
    monkeypatch.setattr(doctor.sys, "prefix", str(tmp_path / "other-venv"))  # the source installed elsewhere
    assert "pip install" in doctor.rebuild_command("cuda", "0.3.36")
    monkeypatch.setattr(doctor.sys, "prefix", str(doctor.SOURCE_ROOT / ".venv"))
    monkeypatch.setattr(doctor, "SOURCE_ROOT", tmp_path)  # installed without the source: plain pip
    assert doctor.rebuild_command("vulkan", "0.3.36").startswith('CMAKE_ARGS="-DGGML_VULKAN=on" ')
    assert doctor.rebuild_command("vulkan", "0.3.36").endswith(
        "install --force-reinstall --no-cache-dir llama-cpp-python==0.3.36")


def test_the_single_file_bundle_is_told_how_to_build_a_gpu_bundle(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "frozen", True, raising=False)  # what PyInstaller sets in the bundle
    command = doctor.rebuild_command("cuda", "0.3.36")
    assert command.startswith("make bundle ENGINE_FLAVOR=cuda BUNDLE_CMAKE_ARGS=-DGGML_CUDA=on")
    assert "pip" not in command
