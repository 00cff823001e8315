"""How many sequences one context decodes together, and how they share its KV cache.

As llama-server's explicit `-np N` (tools/server/server.cpp and common/arg.cpp in the vendored
llama.cpp): one KV stream per sequence, each `n_ctx / N` tokens (llama.cpp rounds to 256). Its
automatic choice is 4 sequences over one unified cache where each may use all `n_ctx`; a unified
cache lets one sequence's attention run over cells of the others (masked), which changes the
rounding: a greedy reply then depends on what else is in the batch (measured on SmolLM2: 2 of 4
replies differed). So `hearth serve` without --parallel keeps the streams split and instead gives
the context `N * --ctx` cells, N as many as free memory allows (at least 2, at most 4): each request
gets the whole --ctx as with llama-server's automatic choice, and its reply is what it gets alone.
LoadOptions.kv_unified=True still asks for a unified cache (llama-server's behaviour) where memory is short.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.engine.protocol import LoadOptions
from app.library.gguf_info import GGUFInfo

AUTO_MOST = 4  # llama-server's automatic slot count
AUTO_LEAST = 2
MAX_PARALLEL = 64  # llama.cpp's LLAMA_MAX_SEQ is 256; more than this would only split the context thinner
MEMORY_SHARE = 0.8  # of the free memory, what the automatic choice may plan to use


def split(options: LoadOptions) -> int:
    """How many separate KV streams `options` asks for (1: one, or one shared by all)."""
    n = max(1, min(options.n_parallel, MAX_PARALLEL))
    return 1 if options.kv_unified else n


def apply(cparams: Any, options: LoadOptions) -> int:
    """Set the context parameters for `options.n_parallel` sequences; the count used (1: as before)."""
    n = max(1, min(options.n_parallel, MAX_PARALLEL))
    if n == 1:
        return 1
    cparams.n_seq_max = n
    cparams.kv_unified = bool(options.kv_unified)
    # Each step may want the logits of every sequence (one decoding token or a prompt's last each);
    # load_params asks for 1, which is all the one-sequence path ever reads.
    cparams.n_outputs_max = max(int(cparams.n_outputs_max), n)
    cparams.n_batch = max(int(cparams.n_batch), n)
    cparams.n_ubatch = cparams.n_batch
    return n


def shared_options(options: LoadOptions, sequences: int) -> LoadOptions:
    """`options` for an engine that `sequences` callers share (the app's chats and its API server): that many
    split sequences, each with the whole `options.n_ctx`, so one caller's reply never waits behind another's."""
    if sequences <= 1 or options.n_parallel > 1:
        return options
    return replace(options, n_parallel=sequences, kv_unified=False, n_ctx=sequences * options.n_ctx)


def serve_options(options: LoadOptions, parallel: int | None, free_ram: int | None = None) -> LoadOptions:
    """`options` for `hearth serve --parallel N`: N sequences sharing `options.n_ctx` as llama-server's -np N.

    `parallel` None: the automatic choice (module docstring), each sequence with `options.n_ctx` of its own."""
    if parallel is not None:
        return replace(options, n_parallel=max(1, min(parallel, MAX_PARALLEL)), kv_unified=False)
    n, per_sequence = auto_parallel(options, free_ram)
    return replace(options, n_parallel=n, kv_unified=False, n_ctx=n * per_sequence)


def auto_parallel(options: LoadOptions, free_ram: int | None = None) -> tuple[int, int]:
    """(sequences, context per sequence): as many as AUTO_MOST whose KV caches fit in free memory."""
    from app.hardware import free_ram_bytes
    from app.library.gguf_info import read_gguf_info
    from app.library.memory_plan import effective_context, plan_memory

    info = read_gguf_info(options.path)
    per_sequence = effective_context(info, options.n_ctx)
    plan = plan_memory(info, per_sequence, options.n_gpu_layers, options.kv_cache_type, options.flash_attn,
                       options.n_batch)
    kv = plan.part("kv_cache").total
    budget = (free_ram_bytes() if free_ram is None else free_ram) * MEMORY_SHARE
    n = AUTO_MOST
    while n > AUTO_LEAST and plan.peak_bytes + (n - 1) * kv > budget:
        n -= 1
    return n, per_sequence


def sharing_shortfall(header: GGUFInfo, n_ctx: int, options: LoadOptions, n_gpu_layers: int, free_ram: int,
                      free_vram: int = 0) -> str:
    """"" when the model with this `header`, loaded with `options` (`n_ctx` tokens and `n_gpu_layers` as the
    engine uses them), may take a second sequence with the whole context for the app's API server
    (shared_options), else why not, in a sentence for the user.

    The second sequence costs one more KV cache (the weights are mapped once whatever the count); it must
    fit MEMORY_SHARE of the memory free now, on the CPU and on the GPU where the cache's layers are.
    Without room the model is loaded as it is and the API server's requests wait behind chat replies, as
    they did before sharing: better than a load that runs out of memory and leaves no model at all."""
    from app.formatting import human_bytes
    from app.library.memory_plan import plan_memory

    plan = plan_memory(header, n_ctx, n_gpu_layers, options.kv_cache_type, options.flash_attn, options.n_batch)
    kv = plan.part("kv_cache")
    needs = ((kv.cpu, free_ram, "memory"), (kv.gpu, free_vram, "GPU memory"))
    short = [(need, free, where) for need, free, where in needs if need > 0 and need > free * MEMORY_SHARE]
    if not short:
        return ""
    need, free, where = short[0]
    return (f"API requests wait behind chat replies: writing both at once needs a second KV cache of about "
            f"{human_bytes(need)} of {where}, and {human_bytes(free)} is free (a smaller context or a q8_0 KV "
            f"cache makes room)")
