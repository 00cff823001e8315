"""The memory plan (app/library/memory_plan.py) against what a load really takes.

For each model and context size a fresh engine process loads the model; the table puts the plan's
resident total beside the process's measured resident memory, and the plan's KV cache and compute
buffers beside the sizes llama.cpp itself reports for them.

    python bench/memory_plan.py                          # SmolLM2, Gemma 3 270M, a random Qwen2-vocab model
    python bench/memory_plan.py --model A.gguf --ctx 2048 --ctx 8192 [--gpu-layers -1] [--kv-cache q8_0]

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

    found = [p for p in (MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf", MODELS / "gemma-3-270m-q4_k_m.gguf")
             if p.exists()]
    generated = MODELS / "random-qwen2-vocab-512x8.f16.gguf"
    if not generated.exists() and (VOCABS / "ggml-vocab-qwen2.gguf").exists():
        print(f"writing {generated.name} (once) ...", file=sys.stderr)
        write_real_vocab_model(generated, VOCABS / "ggml-vocab-qwen2.gguf")
    return found + ([generated] if generated.exists() else [])


def buffer(info: ModelInfo, kind: str) -> int:
    """llama.cpp's buffers of one kind ("KV", "compute", "model") over every device."""
    return sum(size for name, size in info.buffers if name.split()[-1] == kind)


def measure(path: Path, n_ctx: int, gpu_layers: int, kv_cache: str) -> tuple[ModelInfo, MemoryPlan]:
    engine = EngineClient()
    with engine:
        info = engine.load(LoadOptions(str(path), n_ctx=n_ctx, n_gpu_layers=gpu_layers, kv_cache_type=kv_cache))
    plan = plan_memory(read_gguf_info(path), n_ctx, info.n_gpu_layers, info.kv_cache_type, info.flash_attn,
                       info.n_batch)
    return info, plan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path)
    parser.add_argument("--ctx", action="append", type=int)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--kv-cache", default="f16")
    args = parser.parse_args()
    rows, worst = [], 0.0
    for path in args.model or default_models():
        header = read_gguf_info(path)
        contexts = dict.fromkeys(effective_context(header, n) for n in args.ctx or (2048, 8192, 32768))
        for n_ctx in contexts:  # a context above the trained one is cut to it: measured once
            info, plan = measure(path, n_ctx, args.gpu_layers, args.kv_cache)
            off = (plan.resident_bytes - info.resident_bytes) / info.resident_bytes * 100
            worst = max(worst, abs(off))
            rows.append([path.name[:34], f"{info.n_ctx:,}", f"{plan.resident_bytes / MIB:.1f}",
                         f"{info.resident_bytes / MIB:.1f}", f"{off:+.1f}%",
                         f"{plan.part('kv_cache').total / MIB:.1f} / {buffer(info, 'KV') / MIB:.1f}",
                         f"{plan.part('compute').total / MIB:.1f} / {buffer(info, 'compute') / MIB:.1f}",
                         f"{plan.gpu_bytes / MIB:.1f}"])
    print_table(["model", "ctx", "plan MiB", "resident MiB", "plan off by", "KV plan / llama.cpp",
                 "compute plan / llama.cpp", "GPU plan MiB"], rows)
    print(f"\nworst difference: {worst:.1f}% (target 10%, goal 5%)")
    return 0 if worst <= 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
