"""bench/memory_plan.py's table: VRAM columns appear when llama.cpp put buffers on a GPU (CUDA, Vulkan, ...)
and stay out of a CPU-only run. No GPU here: the loads are stood in for by what llama.cpp reports."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from app.engine.protocol import ModelInfo
from app.library.gguf_info import read_gguf_info
from app.library.memory_plan import plan_memory

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import memory_plan as bench  # (bench/ is not a package: its scripts import _common beside them)

MIB = 1024**2


def loaded(buffers, resident=100 * MIB) -> ModelInfo:
    return ModelInfo(path="m.gguf", name="m", architecture="llama", n_params=1, size_bytes=1, n_ctx=2048,
                     n_ctx_train=2048, n_layers=2, n_gpu_layers=3, n_vocab=1, chat_template="", flash_attn=None,
                     load_seconds=0.1, buffers=tuple(buffers), resident_bytes=resident)


def test_a_cpu_run_has_no_vram_columns(tiny_model):
    plan = plan_memory(read_gguf_info(tiny_model), 2048)
    headers, rows, worst, _ = bench.table([("tiny", loaded([("CPU KV", MIB), ("CPU_Mapped model", MIB)]), plan)])
    assert "VRAM plan MiB" not in headers and len(rows[0]) == len(headers) and worst >= 0


def test_a_cuda_run_puts_the_plans_vram_beside_llama_cpps_device_buffers(tiny_model):
    plan = plan_memory(read_gguf_info(tiny_model), 2048, n_gpu_layers=-1)
    gpu = plan.gpu_bytes
    info = loaded([("CPU_Mapped model", MIB), ("CUDA0 model", gpu // 2), ("CUDA0 KV", gpu // 2)])
    headers, rows, _, worst_vram = bench.table([("tiny", info, plan), ("tiny", replace(info, buffers=()), plan)])
    assert headers[-3:] == ["VRAM plan MiB", "VRAM llama.cpp MiB", "VRAM off by"]
    assert rows[0][-3] == f"{gpu / MIB:.1f}" and rows[1][-1] == "-"
    assert worst_vram < 0.1
