"""GPU layers: what is asked of llama.cpp, and the one retry with fewer layers when the GPU runs out of memory."""

from __future__ import annotations

import pytest

from app.engine import EngineError, LoadOptions
from app.engine.offload import EVERY_LAYER, resolve_gpu_layers
from app.engine.protocol import AUTO_LAYERS, ErrorKind


def test_the_layer_count_asked_for(tiny_model):
    never = lambda: pytest.fail("the header is read only for automatic offload")  # noqa: E731
    assert resolve_gpu_layers(never, LoadOptions(str(tiny_model), n_gpu_layers=-1)) == EVERY_LAYER
    assert resolve_gpu_layers(never, LoadOptions(str(tiny_model), n_gpu_layers=7)) == 7
    assert resolve_gpu_layers(never, LoadOptions(str(tiny_model), n_gpu_layers=0)) == 0
    # automatic on this CPU-only build: nothing to fit, and no header read either
    assert resolve_gpu_layers(never, LoadOptions(str(tiny_model), n_gpu_layers=AUTO_LAYERS)) == 0


def test_out_of_gpu_memory_retries_once_with_fewer_layers(tiny_model):
    from app.engine.offload import load_model

    tried = []

    class Model:
        def __init__(self, options, on_progress=None, gguf=None):
            tried.append(options.n_gpu_layers)
            if options.n_gpu_layers == -1 or options.n_gpu_layers > 1:  # -1: all 3
                raise EngineError(ErrorKind.OUT_OF_MEMORY, "cudaMalloc failed")
            self.info = _info()

    model = load_model(Model, LoadOptions(str(tiny_model), n_gpu_layers=-1), gpu_usable=True)
    assert tried == [-1, 1]
    assert "not enough GPU memory for 3 layers" in model.info.notice and "1 on the GPU" in model.info.notice
    # without a usable GPU there is nothing to retry
    tried.clear()
    with pytest.raises(EngineError):
        load_model(Model, LoadOptions(str(tiny_model), n_gpu_layers=-1), gpu_usable=False)
    assert tried == [-1]


def _info():
    from app.engine.protocol import ModelInfo

    return ModelInfo("p", "n", "llama", 1, 1, 256, 2048, 2, 1, 10, "gguf", None, 0.1)
