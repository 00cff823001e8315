"""The llama.cpp parameters for one load, from our LoadOptions, and what a failed load means."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import llama_cpp

from app.engine.protocol import AUTO_PROJECTOR, EngineError, ErrorKind, LoadOptions
from app.library.architectures import architecture_problem, unknown_architecture_message
from app.library.gguf_info import GGUFInfo

KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}


def model_params(options: LoadOptions, gpu_layers: int, progress_callback: Any, extra_buffers: bool = True) -> Any:
    """`extra_buffers=False` turns off llama.cpp's AMX and CPU weight-repacking buffers (amx_guard)."""
    params = llama_cpp.llama_model_default_params()
    params.n_gpu_layers = gpu_layers
    params.use_extra_bufts = extra_buffers
    params.load_mode = llama_cpp.LLAMA_LOAD_MODE_MMAP if options.use_mmap else llama_cpp.LLAMA_LOAD_MODE_NONE
    params.progress_callback = progress_callback
    return params


def context_params(options: LoadOptions, n_ctx: int, threads: int,
                   cpu_only: bool = False) -> tuple[Any, str, list[str]]:
    """(llama_context_params, the KV cache type's name, notices for the user).

    `cpu_only`: every layer runs on the CPU. Then automatic flash attention means off for an
    f16 KV cache: this llama.cpp's CPU flash-attention kernel decodes one token at a time far
    slower once the chat is a few hundred tokens long (SmolLM2 at 2,000 tokens of context:
    29.6 against 57.1 tok/s; a Llama-3.2-1B shape at 1,500: 11.4 against 17.3), while it gains
    only 5-10% on prompts and on the first ~100 tokens (docs/BENCHMARKS.md). llama.cpp's own
    automatic choice turns it on wherever the device supports it, the CPU included.
    """
    notice: list[str] = []
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx = n_ctx
    cparams.n_batch = max(min(options.n_batch, n_ctx), 1)
    cparams.n_ubatch = cparams.n_batch
    cparams.n_threads = threads
    cparams.n_threads_batch = threads
    kv_name = options.kv_cache_type if options.kv_cache_type in KV_TYPES else "f16"
    kv_type = KV_TYPES[kv_name]
    flash = options.flash_attn
    if kv_type != llama_cpp.GGML_TYPE_F16 and flash is None:
        flash = True  # a quantized V cache needs flash attention
    elif flash is None and cpu_only:
        flash = False
    cparams.flash_attn_type = {
        None: llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO,
        True: llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
        False: llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED,
    }[flash]
    cparams.type_k = kv_type
    if flash:
        cparams.type_v = kv_type
    elif kv_type != llama_cpp.GGML_TYPE_F16:
        notice.append("the V cache stays f16 because flash attention is off")
    cparams.no_perf = True
    # We only ever read the last token's logits (or its token, sampled in the graph): without
    # this llama.cpp sizes its prompt graph for n_batch outputs (13 MiB more on SmolLM2).
    cparams.n_outputs_max = 1
    return cparams, kv_name, notice


def load_failure_reason(lines: list[str]) -> str:
    """The line of llama.cpp's log that says why a load failed, without its function prefix.

    llama.cpp ends every failed load with "failed to load model", which says nothing; the reason
    is the "error loading model: ..." line before it (or the last other warning).
    """
    for line in reversed(lines):
        marker = line.find("error loading model: ")
        if marker >= 0:
            return line[marker + len("error loading model: "):].strip()
    telling = [line for line in lines if not line.endswith("failed to load model")]
    return telling[-1] if telling else (lines[-1] if lines else "")


def load_error(detail: str, architecture: str, advice: Callable[[], str] | None = None) -> EngineError:
    """What a failed model load means, from llama.cpp's reason (load_failure_reason) and the architecture.

    `advice` says what the load needs and what to change (memory_advice), asked only when memory ran out."""
    said = f" — llama.cpp said: {detail}" if detail else ""
    if "unknown model architecture" in detail or architecture_problem(architecture):
        return EngineError(ErrorKind.UNSUPPORTED, unknown_architecture_message(architecture))
    if "alloc" in detail.lower() or "memory" in detail.lower():
        needs = advice() if advice is not None else ""
        needs = f": {needs}" if needs else ""
        return EngineError(ErrorKind.OUT_OF_MEMORY, f"not enough memory to load this model{needs}{said}")
    return EngineError(ErrorKind.LOAD_FAILED, f"llama.cpp could not load this model{said}")


def memory_advice(header: Callable[[], GGUFInfo], options: LoadOptions, gpu_layers: int, n_ctx: int = 0) -> str:
    """ "needs about X of memory, Y free: try ..." from the memory plan, or "" when the header is unreadable."""
    from app.hardware import free_ram_bytes, free_vram_bytes
    from app.library.memory_plan import out_of_memory_advice, plan_memory

    try:
        plan = plan_memory(header(), n_ctx or options.n_ctx, gpu_layers, options.kv_cache_type, options.flash_attn,
                           options.n_batch, projector_header(options), options.mmproj_gpu and gpu_layers != 0)
        return out_of_memory_advice(plan, free_ram_bytes(), free_vram_bytes(), always=True)
    except Exception:  # noqa: BLE001 - the advice is a help: a failure to give it leaves llama.cpp's words alone
        return ""


def projector_header(options: LoadOptions) -> GGUFInfo | None:
    """The header of the projector a load names (or pairs), for the memory plan; None for a text load."""
    from app.library.gguf_info import read_gguf_info
    from app.library.projector import pair_projector

    path = pair_projector(options.path) if options.mmproj == AUTO_PROJECTOR else options.mmproj
    return read_gguf_info(path) if path else None


def context_error(n_ctx: int, detail: str, advice: str = "") -> EngineError:
    needs = f": {advice}" if advice else ": try a smaller context size"
    return EngineError(
        ErrorKind.OUT_OF_MEMORY,
        f"could not set up a {n_ctx}-token context (not enough memory?){needs}"
        + (f" — llama.cpp said: {detail}" if detail else ""),
    )


def model_meta(model: Any, key: str) -> str:
    """A loaded model's metadata value as text ("" when it has none)."""
    buf = ctypes.create_string_buffer(512)
    n = llama_cpp.llama_model_meta_val_str(model, key.encode(), buf, len(buf))
    return buf.value.decode("utf-8", errors="replace") if n > 0 else ""


def progress_callback(on_progress: Callable[[float], None] | None) -> Any:
    """llama.cpp's load-progress callback calling `on_progress(fraction)`; keep it alive while the load runs."""
    def progress(fraction: float, _data: ctypes.c_void_p) -> bool:
        if on_progress is not None:
            try:
                on_progress(float(fraction))
            except Exception:  # noqa: BLE001 (a caller's progress handler must not stop the load)
                pass
        return True

    return llama_cpp.llama_progress_callback(progress)
