"""Each reply token is decoded in a batch of the same shape, so llama.cpp reuses its compute graph
instead of building it again per token (llama_perf_context's n_reused counts the reuses)."""

from __future__ import annotations

from pathlib import Path

import llama_cpp

from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams


def test_reply_tokens_reuse_the_decode_graph(tiny_model: Path) -> None:
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512, n_threads=1))
    try:
        before = llama_cpp.llama_perf_context(model.ctx)
        out = model.generate([ChatMessage("user", "Tell me about Paris.")],
                             SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=24), lambda text, n: None)
        after = llama_cpp.llama_perf_context(model.ctx)
    finally:
        model.close()
    decoded = after.n_eval - before.n_eval
    assert out.stats.completion_tokens == 24 and decoded >= 20  # one-token decodes (llama.cpp counts most)
    assert after.n_reused - before.n_reused >= decoded - 1  # only the first after the prompt builds a graph
