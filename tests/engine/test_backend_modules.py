"""llama.cpp's backends as run-time modules (the desktop bundle's engine, packaging/build_engine.sh).

A build with GGML_BACKEND_DL=ON has one libggml-cpu-<variant>.so per instruction set beside
libllama; Hearth points llama.cpp at that folder and it loads the best variant for this CPU.
The `make install` build has its CPU backend linked in, and must be left as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from app import doctor
from app.engine import llama_backend

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_ENGINE = (Path.home() / ".cache" / "hearth" / "bundle-engine"
                 / f"{metadata.version('llama-cpp-python')}-cpu" / "lib")
# Variants for CPUs older than AVX2 (x64, sse42, sandybridge, ivybridge, piledriver): a CPU
# that has AVX2 must get something better.
OLD_VARIANTS = {"x64", "sse42", "sandybridge", "ivybridge", "piledriver"}


def test_a_build_with_its_cpu_backend_linked_in_is_left_alone():
    llama_backend.load_backend_modules()
    llama_backend.ensure_backend()
    assert "CPU :" in llama_backend.llama_cpp.llama_print_system_info().decode()
    assert llama_backend.loaded_cpu_variant() == ""  # nothing was loaded as a module


def test_the_doctor_names_a_chosen_cpu_variant_only_where_there_is_one():
    report = doctor.diagnose()
    assert report["cpu_variant"] == ""
    assert "CPU backend:" not in doctor.format_report(report)
    assert "llama.cpp CPU backend: zen4 (chosen for this CPU at start)" in doctor.format_report(
        {**report, "cpu_variant": "zen4"})


PROBE = """
import json
from app.engine import llama_backend
llama_backend.ensure_backend()
import llama_cpp
print(json.dumps({"variant": llama_backend.loaded_cpu_variant(),
                  "info": llama_cpp.llama_print_system_info().decode()}))
"""


@pytest.mark.skipif(not (BUNDLE_ENGINE / "libllama.so").exists(),
                    reason=f"no bundle engine at {BUNDLE_ENGINE} (bash packaging/build_engine.sh builds it)")
def test_the_bundle_engine_loads_the_best_cpu_variant_from_its_own_folder(tmp_path):
    variants = {p.name.removeprefix("libggml-cpu-").removesuffix(".so") for p in BUNDLE_ENGINE.glob("libggml-cpu-*.so")}
    assert {"x64", "haswell", "skylakex", "zen4"} <= variants  # every x86-64 variant was built
    env = {**os.environ, "LLAMA_CPP_LIB_PATH": str(BUNDLE_ENGINE), "HEARTH_HOME": str(tmp_path),
           "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    # from another folder than the libraries': llama.cpp's own search (beside python, the working
    # folder) would find nothing there
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "load_backend" not in done.stderr  # llama.cpp's note on the module it loaded goes to our log only
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["variant"] in variants and "CPU :" in result["info"]
    flags = Path("/proc/cpuinfo").read_text().split()
    if "avx2" in flags:
        assert result["variant"] not in OLD_VARIANTS
    if "avx512f" in flags:
        assert "AVX512 = 1" in result["info"]
