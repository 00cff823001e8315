"""How a reply picks its tokens: in llama.cpp's graph, by llama.cpp's CPU chain, or by a numpy argmax.

Every path must choose the tokens llama.cpp's own samplers would: the fast paths only move
the work, they never change a reply.
"""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from app.engine import backend_sampling
from app.engine.protocol import ChatMessage, LoadOptions, StopReason
from app.engine.runtime import LoadedModel
from app.engine.sampler_chain import ReplySampler, argmax_picker
from app.engine.sampling import SamplingParams

GREEDY = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=48)
QUESTION = [ChatMessage("user", "What is the capital of France?")]
PENALISED = SamplingParams(temperature=0.0, repeat_penalty=1.2, max_tokens=30)

needs_backend_sampling = pytest.mark.skipif(not backend_sampling.available(),
                                            reason="this llama.cpp has no backend sampling")


GEMMA3 = Path.home() / ".cache" / "hearth" / "test-models" / "gemma-3-270m-q4_k_m.gguf"


@pytest.fixture
def gemma3() -> Path:
    """The real Gemma 3 270M (a 262k-token vocabulary) when the test-model cache holds it."""
    if not GEMMA3.exists():
        pytest.skip(f"{GEMMA3} is not cached")
    return GEMMA3


def _load(path: Path) -> LoadedModel:
    return LoadedModel(LoadOptions(str(path), n_ctx=512, n_threads=1))


def _greedy_chain():
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    return chain


def _reply(model: LoadedModel, sampling: SamplingParams, in_graph: bool, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(LoadedModel, "_reply_sampler",
                        lambda self, s: ReplySampler(self.ctx, s, self.n_vocab, in_graph=in_graph))
    return model.generate(QUESTION, sampling, lambda text, n: None)


@needs_backend_sampling
def test_each_reply_takes_the_path_its_settings_allow(tiny_model: Path) -> None:
    model = _load(tiny_model)
    try:
        cases = [
            (GREEDY, True, True),  # greedy: picked in the graph
            (SamplingParams(temperature=0.7, repeat_penalty=1.0), True, True),  # top-k/top-p/min-p/temp/dist too
            (SamplingParams(temperature=0.0, repeat_penalty=1.3), True, False),  # penalties run on the CPU
            (GREEDY, False, False),  # HEARTH_BACKEND_SAMPLING=0
        ]
        for sampling, allowed, expected in cases:
            sampler = ReplySampler(model.ctx, sampling, model.n_vocab, in_graph=allowed)
            try:
                assert sampler.in_graph is expected, sampling
                if sampling is GREEDY and not allowed:
                    assert sampler.chain is None  # a numpy argmax, no llama.cpp chain built for nothing
            finally:
                sampler.close()
            sampler.close()  # twice is harmless
    finally:
        model.close()


def test_plain_greedy_builds_no_chain_where_the_graph_cannot_sample(tiny_model: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_sampling, "available", lambda: False)
    model = _load(tiny_model)
    try:
        sampler = ReplySampler(model.ctx, GREEDY, model.n_vocab, in_graph=True)
        assert sampler.chain is None and sampler.in_graph is False
        assert model._decode([1, 2, 3]) == 0 and 0 <= sampler.pick() < model.n_vocab
        sampler.close()
    finally:
        model.close()


@pytest.mark.parametrize("which", ["tiny_model", "smollm2", "gemma3"])
def test_argmax_picks_what_llama_greedy_sampler_picks(which: str, request: pytest.FixtureRequest) -> None:
    model = _load(request.getfixturevalue(which))
    chain = _greedy_chain()
    try:
        _, tokens = model.encode([ChatMessage("user", "Tell me about the sea.")])
        assert model._decode(tokens) == 0
        pick = argmax_picker(model.ctx, model.n_vocab)
        for _ in range(40):
            ours = pick()
            assert ours == llama_cpp.llama_sampler_sample(chain, model.ctx, -1)
            assert model._decode([ours]) == 0
    finally:
        llama_cpp.llama_sampler_free(chain)
        model.close()


@needs_backend_sampling
@pytest.mark.parametrize("which", ["tiny_model", "smollm2"])
def test_greedy_in_the_graph_gives_the_cpu_reply(which: str, request: pytest.FixtureRequest,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    model = _load(request.getfixturevalue(which))
    try:
        in_graph = _reply(model, GREEDY, True, monkeypatch)
        model.kv_tokens.clear()
        llama_cpp.llama_memory_clear(model.memory, True)
        on_cpu = _reply(model, GREEDY, False, monkeypatch)
    finally:
        model.close()
    assert in_graph.stats.completion_tokens > 10
    assert in_graph.text == on_cpu.text
    assert in_graph.stats.completion_tokens == on_cpu.stats.completion_tokens
    assert in_graph.stats.stop_reason == on_cpu.stats.stop_reason


@needs_backend_sampling
def test_top_k_one_in_the_graph_is_greedy(smollm2: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # top_k=1 leaves one candidate whatever the temperature: the graph's top-k must keep the best
    model = _load(smollm2)
    try:
        greedy = _reply(model, GREEDY, False, monkeypatch)
        top1 = _reply(model, SamplingParams(temperature=0.9, top_k=1, repeat_penalty=1.0, max_tokens=48, seed=7),
                      True, monkeypatch)
    finally:
        model.close()
    assert greedy.stats.completion_tokens > 10
    assert top1.text == greedy.text


@needs_backend_sampling
def test_a_seeded_reply_in_the_graph_repeats_and_the_next_reply_on_the_cpu_still_works(
        smollm2: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sampling = SamplingParams(temperature=1.0, top_k=40, top_p=0.95, min_p=0.0, repeat_penalty=1.0,
                              max_tokens=40, seed=1234)
    model = _load(smollm2)
    try:
        first = _reply(model, sampling, True, monkeypatch)
        again = _reply(model, sampling, True, monkeypatch)
        other = _reply(model, SamplingParams(**{**sampling.to_dict(), "seed": 99, "stop": ()}), True, monkeypatch)
        # the chain was detached and freed: a reply with penalties samples on the CPU from fresh logits
        penalised = _reply(model, PENALISED, True, monkeypatch)
    finally:
        model.close()
    fresh = _load(smollm2)
    try:
        expected = _reply(fresh, PENALISED, False, monkeypatch)
    finally:
        fresh.close()
    assert first.stats.completion_tokens > 5
    assert first.text == again.text
    assert other.text != first.text
    assert penalised.stats.stop_reason in (StopReason.EOS, StopReason.LENGTH)
    assert penalised.text == expected.text
