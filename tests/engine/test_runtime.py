"""LoadedModel's load options, read back from llama.cpp (the real-model behaviour is in test_real_model.py)."""

from __future__ import annotations

from app.engine import LoadOptions
from app.engine.protocol import AUTO_LAYERS


def test_load_options_reach_llama_cpp(engine, model_dir):
    from tests.support.tiny_gguf import write_tiny_model

    wide = write_tiny_model(model_dir / "wide-heads.gguf", n_embd=128, n_head=4, n_head_kv=2, n_ff=256)
    info = engine.load(LoadOptions(str(wide), n_ctx=512, n_threads=1, n_batch=64, kv_cache_type="q8_0",
                                   flash_attn=None, use_mmap=False, n_gpu_layers=AUTO_LAYERS))
    assert (info.n_threads, info.n_batch, info.kv_cache_type, info.use_mmap) == (1, 64, "q8_0", False)
    assert info.n_gpu_layers == 0 and info.gpu_backend == "none"
    info = engine.load(LoadOptions(str(wide), n_ctx=512, n_threads=2, n_batch=512, flash_attn=False))
    assert (info.n_threads, info.n_batch, info.kv_cache_type) == (2, 512, "f16")
