"""The memory plan (app/library/memory_plan.py) against what a load really takes.

For each model and context size a fresh engine process loads the model; the table puts the plan's
resident total beside the process's measured resident memory, and the plan's KV cache and compute
buffers beside the sizes llama.cpp itself reports for them.

    python bench/memory_plan.py                          # SmolLM2, Gemma 3 270M, Qwen2.5-Coder 0.5B
    python bench/memory_plan.py --model A.gguf --ctx 2048 --ctx 8192 [--gpu-layers -1] [--kv-cache q8_0]

On a machine with a GPU backend (CUDA, Vulkan, Metal) and --gpu-layers other than 0, two more columns put
the plan's GPU bytes beside llama.cpp's own device buffers (every buffer not on "CPU"), and the worst VRAM
difference is printed too.

Target: the plan's resident total within 10% of the measured one (goal 5%). A context above a
model's trained one is cut to it, by the engine and the plan alike (the "ctx" column shows it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import print_table

from app.engine import EngineClient
from app.engine.protocol import LoadOptions, ModelInfo
from app.library.gguf_info import read_gguf_info
from app.library.memory_plan import MemoryPlan, effective_context, plan_memory

MODELS = Path.home() / ".cache" / "hearth" / "test-models"
MIB = 1024**2


def default_models() -> list[Path]:
    from tests.support.real_vocab_model import VOCABS, write_real_vocab_model

    found = [p for p in (MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf", MODELS / "gemma-3-270m-q4_k_m.gguf",
                         MODELS / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf") if p.exists()]
    if len(found) == 3:
        return found
    # without the real Qwen2.5: random weights with Qwen2's real vocabulary (its merges, its 151,936 entries)
    generated = MODELS / "random-qwen2-vocab-512x8.f16.gguf"
    if not generated.exists() and (VOCABS / "ggml-vocab-qwen2.gguf").exists():
        print(f"writing {generated.name} (once) ...", file=sys.stderr)
        write_real_vocab_model(generated, VOCABS / "ggml-vocab-qwen2.gguf")
    return found + ([generated] if generated.exists() else [])


def buffer(info: ModelInfo, kind: str) -> int:
    """llama.cpp's buffers of one kind ("KV", "compute", "model") over every device."""
    return sum(size for name, size in info.buffers if name.split()[-1] == kind)


def device_bytes(info: ModelInfo) -> int:
    """llama.cpp's buffers on a GPU ("CUDA0 model", "Vulkan0 KV", ...): every buffer not on the CPU."""
    return sum(size for name, size in info.buffers if not name.upper().startswith("CPU"))


def measure(path: Path, n_ctx: int, gpu_layers: int, kv_cache: str) -> tuple[ModelInfo, MemoryPlan]:
    engine = EngineClient()
    with engine:
        info = engine.load(LoadOptions(str(path), n_ctx=n_ctx, n_gpu_layers=gpu_layers, kv_cache_type=kv_cache))
    plan = plan_memory(read_gguf_info(path), n_ctx, info.n_gpu_layers, info.kv_cache_type, info.flash_attn,
                       info.n_batch)
    return info, plan


def table(results: list[tuple[str, ModelInfo, MemoryPlan]]) -> tuple[list[str], list[list[str]], float, float]:
    """The table's headers and rows, the worst resident difference and the worst VRAM one (in %), for each
    (model name, what the load measured, the plan); the VRAM columns only when some buffer is on a GPU."""
    rows, worst, worst_vram, on_gpu = [], 0.0, 0.0, False
    for name, info, plan in results:
        off = (plan.resident_bytes - info.resident_bytes) / info.resident_bytes * 100
        worst = max(worst, abs(off))
        vram = device_bytes(info)
        on_gpu = on_gpu or vram > 0
        if vram:
            worst_vram = max(worst_vram, abs(plan.gpu_bytes - vram) / vram * 100)
        rows.append([name[:34], f"{info.n_ctx:,}", f"{plan.resident_bytes / MIB:.1f}",
                     f"{info.resident_bytes / MIB:.1f}", f"{off:+.1f}%",
                     f"{plan.part('kv_cache').total / MIB:.1f} / {buffer(info, 'KV') / MIB:.1f}",
                     f"{plan.part('compute').total / MIB:.1f} / {buffer(info, 'compute') / MIB:.1f}",
                     f"{plan.gpu_bytes / MIB:.1f}", f"{vram / MIB:.1f}",
                     f"{(plan.gpu_bytes - vram) / vram * 100:+.1f}%" if vram else "-"])
    headers = ["model", "ctx", "plan MiB", "resident MiB", "plan off by", "KV plan / llama.cpp",
               "compute plan / llama.cpp", "VRAM plan MiB", "VRAM llama.cpp MiB", "VRAM off by"]
    if not on_gpu:  # a CPU-only run: the VRAM columns would be all zeros
        headers, rows = headers[:-3], [row[:-3] for row in rows]
    return headers, rows, worst, worst_vram


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path)
    parser.add_argument("--ctx", action="append", type=int)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--kv-cache", default="f16")
    args = parser.parse_args()
    results = []
    for path in args.model or default_models():
        header = read_gguf_info(path)
        contexts = dict.fromkeys(effective_context(header, n) for n in args.ctx or (2048, 8192, 32768))
        for n_ctx in contexts:  # a context above the trained one is cut to it: measured once
            info, plan = measure(path, n_ctx, args.gpu_layers, args.kv_cache)
            results.append((path.name, info, plan))
    headers, rows, worst, worst_vram = table(results)
    print_table(headers, rows)
    print(f"\nworst difference: {worst:.1f}% (target 10%, goal 5%)")
    if "VRAM off by" in headers:
        print(f"worst VRAM difference: {worst_vram:.1f}% (the plan's GPU bytes against llama.cpp's device buffers)")
    return 0 if worst <= 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
