"""A prompt is evaluated in n_batch chunks with logits for its last token only, and the same
prompt again starts from the logits it had the first time (prompt_replay.py).

On CPUs whose kernels round a one-token batch differently from a longer one (an AVX2-only
build: up to 0.58 apart in SmolLM2's logits), a reply that started from a whole-prompt
batch the first time and from the one uncached token the next time could differ for the
same seed. The kept logits make a regenerated reply start from exactly the same ones, with
nothing evaluated; the engine no longer pays a pass through the model for a lone last token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import sampler_chain
from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams

QUESTION = [ChatMessage("user", "What is the capital of France?")]
SEEDED = SamplingParams(temperature=1.0, top_k=40, top_p=0.95, repeat_penalty=1.0, max_tokens=6, seed=1234)
# HEARTH_BACKEND_SAMPLING=1 keeps the lone last token (the chain picks in its graph): not these tests' subject
on_the_host = pytest.mark.skipif(sampler_chain.IN_GRAPH, reason="in-graph sampling evaluates the last token alone")


def _until(batches: list[int], total: int) -> list[int]:
    """The first batches, up to the one that completes `total` tokens (the prompt; the reply's come after)."""
    done = 0
    for i, size in enumerate(batches):
        done += size
        if done >= total:
            return batches[: i + 1]
    return batches


@on_the_host
def test_a_prompt_goes_in_whole_chunks_and_the_same_prompt_again_reuses_its_logits(
        tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512, n_threads=1, n_batch=16))
    batches: list[int] = []
    outputs: list[bool] = []
    decode = model._decode

    def counted(tokens: list[int], output: bool = True) -> int:
        batches.append(len(tokens))
        outputs.append(output)
        return decode(tokens, output)

    monkeypatch.setattr(model, "_decode", counted)
    try:
        _, tokens = model.encode(QUESTION)
        first = model.generate(QUESTION, SEEDED, lambda text, n: None)
        prompt_batches, batches[:] = _until(batches, len(tokens)), []
        again = model.generate(QUESTION, SEEDED, lambda text, n: None)
    finally:
        model.close()
    assert len(tokens) > 16 and sum(prompt_batches) == len(tokens)
    assert prompt_batches == [16] * (len(tokens) // 16) + ([len(tokens) % 16] if len(tokens) % 16 else [])
    assert outputs[: len(prompt_batches)] == [False] * (len(prompt_batches) - 1) + [True]  # logits at the end only
    assert again.stats.cached_tokens == len(tokens)  # nothing evaluated: the reply's tokens only
    assert batches == []  # the reply decodes its own tokens (decode_loop); no prompt batch at all
    assert again.text == first.text


@on_the_host
@pytest.mark.parametrize("greedy", [
    SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=8),  # numpy argmax
    SamplingParams(temperature=0.0, repeat_penalty=1.3, max_tokens=8),  # llama.cpp's chain, penalties
    SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=8, top_logprobs=3),  # probabilities read too
], ids=["argmax", "chain", "logprobs"])
def test_a_regenerated_reply_equals_the_first_and_a_new_prompt_is_evaluated(tiny_model: Path,
                                                                           greedy: SamplingParams) -> None:
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512, n_threads=1))
    try:
        first = model.generate(QUESTION, greedy, lambda text, n: None)
        again = model.generate(QUESTION, greedy, lambda text, n: None)
        other = model.generate([ChatMessage("user", "And of Italy?")], greedy, lambda text, n: None)
        back = model.generate(QUESTION, greedy, lambda text, n: None)  # the kept logits are the other prompt's now
    finally:
        model.close()
    assert again.text == first.text and again.stats.cached_tokens == first.stats.prompt_tokens
    assert again.probs == first.probs and len(first.probs) == (8 if greedy.top_logprobs >= 0 else 0)
    assert other.stats.cached_tokens < other.stats.prompt_tokens
    assert back.text == first.text and back.stats.cached_tokens < back.stats.prompt_tokens
