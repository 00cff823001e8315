"""Greedy replies take the argmax of the logits instead of llama.cpp's sampler chain.

The fast path must choose exactly the token llama.cpp's greedy sampler would.
"""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams

GREEDY = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=48)


def _load(path: Path) -> LoadedModel:
    return LoadedModel(LoadOptions(str(path), n_ctx=512, n_threads=1))


def _greedy_chain():
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    return chain


def test_plain_greedy_needs_no_sampler_chain(tiny_model: Path) -> None:
    model = _load(tiny_model)
    try:
        assert model._build_sampler(GREEDY) is None
        with_penalty = model._build_sampler(SamplingParams(temperature=0.0, repeat_penalty=1.3))
        assert with_penalty is not None  # penalties still go through llama.cpp's chain
        llama_cpp.llama_sampler_free(with_penalty)
        random = model._build_sampler(SamplingParams(temperature=0.7))
        assert random is not None
        llama_cpp.llama_sampler_free(random)
    finally:
        model.close()


@pytest.mark.parametrize("which", ["tiny_model", "smollm2"])
def test_argmax_picks_what_llama_greedy_sampler_picks(which: str, request: pytest.FixtureRequest) -> None:
    model = _load(request.getfixturevalue(which))
    chain = _greedy_chain()
    try:
        _, tokens = model.encode([ChatMessage("user", "Tell me about the sea.")])
        assert model._decode(tokens) == 0
        pick = model._argmax_picker()
        for _ in range(40):
            ours = pick()
            assert ours == llama_cpp.llama_sampler_sample(chain, model.ctx, -1)
            assert model._decode([ours]) == 0
    finally:
        llama_cpp.llama_sampler_free(chain)
        model.close()


def test_greedy_reply_is_unchanged_by_the_fast_path(smollm2: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    question = [ChatMessage("user", "What is the capital of France?")]
    fast = _load(smollm2)
    try:
        fast_reply = fast.generate(question, GREEDY, lambda text, n: None)
    finally:
        fast.close()
    monkeypatch.setattr(LoadedModel, "_build_sampler", lambda self, sampling: _greedy_chain())
    chained = _load(smollm2)
    try:
        chained_reply = chained.generate(question, GREEDY, lambda text, n: None)
    finally:
        chained.close()
    assert fast_reply.stats.completion_tokens > 10
    assert fast_reply.text == chained_reply.text
    assert fast_reply.stats.completion_tokens == chained_reply.stats.completion_tokens
    assert fast_reply.stats.stop_reason == chained_reply.stats.stop_reason
