"""The ModelInfo of a model just loaded: what the app shows about it and its settings."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine.protocol import LoadOptions, ModelInfo
from app.engine.tool_calls import tool_format
from app.library.gguf_info import GGUFInfo


def describe(model: Any, options: LoadOptions, gguf: GGUFInfo | None, shards: Sequence[Path], mparams: Any,
             name: str, arch: str, n_ctx_train: int, kv_name: str, notice: list[str], started: float) -> ModelInfo:
    """What the app shows about a model just loaded (`model`: the LoadedModel, its context made; not
    imported here, as runtime.py imports this module; `mparams`: llama.cpp's model parameters)."""
    from app.engine.llama_backend import buffer_sizes
    from app.hardware import gpu_backend

    offloaded = min(mparams.n_gpu_layers, model.n_layers + 1)
    return ModelInfo(
        path=str(gguf.path if gguf is not None else options.path),
        name=name,
        architecture=arch,
        n_params=llama_cpp.llama_model_n_params(model.model),
        size_bytes=gguf.size_bytes if gguf is not None else sum(s.stat().st_size for s in shards),
        n_ctx=model.n_ctx,
        n_ctx_train=n_ctx_train,
        n_layers=model.n_layers,
        n_gpu_layers=offloaded if llama_cpp.llama_supports_gpu_offload() else 0,
        n_vocab=model.n_vocab,
        chat_template=model.template.origin,
        flash_attn=options.flash_attn,
        load_seconds=time.perf_counter() - started,
        gpu_backend=gpu_backend(),
        notice="; ".join(notice),
        n_threads=llama_cpp.llama_n_threads(model.ctx),
        n_batch=llama_cpp.llama_n_batch(model.ctx),
        kv_cache_type=kv_name,
        use_mmap=options.use_mmap,
        thinking_modes=model.template.thinking_modes,
        tool_format=tool_format(model.template.source),
        mmproj=model.vision.path if model.vision is not None else "",
        buffers=buffer_sizes(),
        resident_bytes=resident_bytes(),
        n_parallel=getattr(model, "n_parallel", 1),
    )


def resident_bytes() -> int:
    """This (the engine) process's resident memory now, 0 where it cannot be read."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 - psutil missing or the OS refusing: the figure is left out
        return 0
