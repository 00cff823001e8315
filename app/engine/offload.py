"""How many layers go to the GPU, and what happens when they do not fit.

Auto offload picks the most layers whose weights and KV cache fit free VRAM;
a load that runs out of GPU memory is retried once with half the layers, and
the user is told. Runs inside the engine process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, TypeVar

from app.engine.protocol import AUTO_LAYERS, EngineError, ErrorKind, LoadOptions, ModelInfo
from app.library.gguf_info import GGUFFileError, GGUFInfo, read_gguf_info

EVERY_LAYER = 0x7FFFFFFF  # llama.cpp clamps it to the model's layers (+1 for the output)


def resolve_gpu_layers(header: Callable[[], GGUFInfo], options: LoadOptions) -> int:
    """The layer count llama.cpp will be asked for.

    `header` gives the file's header; it is called only when the answer depends on it
    (auto offload with a usable GPU), so a plain load never reads the header in Python.
    """
    if options.n_gpu_layers == AUTO_LAYERS:
        return auto_gpu_layers(header, options)
    if options.n_gpu_layers < 0:
        return EVERY_LAYER
    return options.n_gpu_layers


class Loaded(Protocol):
    info: ModelInfo


Model = TypeVar("Model", bound=Loaded)


def load_model(loader: Callable[[LoadOptions, Callable[[float], None] | None, GGUFInfo | None], Model],
               options: LoadOptions, on_progress: Callable[[float], None] | None = None,
               gpu_usable: bool | None = None, gguf: GGUFInfo | None = None) -> Model:
    """Load, and if the GPU runs out of memory, retry once with half the layers and say so.

    It never moves to the CPU without telling: the notice names the layers used.
    `loader(options, on_progress, gguf)` does one load (the runtime's LoadedModel; tests pass their own).
    """
    from app.hardware import supports_gpu_offload

    try:
        return loader(options, on_progress, gguf)
    except EngineError as exc:
        usable = supports_gpu_offload() if gpu_usable is None else gpu_usable
        if exc.kind not in (ErrorKind.OUT_OF_MEMORY, ErrorKind.LOAD_FAILED) or options.n_gpu_layers == 0 or not usable:
            raise
        try:
            known = gguf if gguf is not None else read_gguf_info(options.path)
        except GGUFFileError:
            raise exc from None
        tried = resolve_gpu_layers(lambda: known, options)
        if tried == EVERY_LAYER:
            tried = known.n_layers + 1
        fewer = tried // 2
        if tried == 0:
            raise
        try:
            model = loader(replace(options, n_gpu_layers=fewer), on_progress, known)
        except EngineError as again:
            raise EngineError(again.kind, f"not enough memory with {tried} layers on the GPU, nor with {fewer}: "
                                          f"{again.message}") from again
        where = f"{fewer} on the GPU" if fewer else "none on the GPU: it runs on the CPU only"
        note = f"not enough GPU memory for {tried} layers, so it was loaded with {where}"
        model.info = replace(model.info, notice="; ".join(n for n in (note, model.info.notice) if n))
        return model


def auto_gpu_layers(header: Callable[[], GGUFInfo], options: LoadOptions) -> int:
    """Most layers whose weights and KV cache fit free VRAM (0 without a usable GPU)."""
    from app.hardware import fit_gpu_layers, supports_gpu_offload

    if not supports_gpu_offload():
        return 0
    gguf = header()
    n_ctx = options.n_ctx or gguf.context_length
    return fit_gpu_layers(gguf, n_ctx, options.kv_cache_type).n_gpu_layers
