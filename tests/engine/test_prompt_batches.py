"""The prompt's last token is always evaluated alone, cached prefix or not.

On CPUs whose kernels round a one-token batch differently from a longer one (an AVX2-only
build: up to 0.58 apart in SmolLM2's logits), a reply that started from a whole-prompt
batch the first time and from the one uncached token the next time could differ for the
same seed. Evaluating the last token alone both times makes its logits the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams

QUESTION = [ChatMessage("user", "What is the capital of France?")]
SEEDED = SamplingParams(temperature=1.0, top_k=40, top_p=0.95, repeat_penalty=1.0, max_tokens=6, seed=1234)


def _until(batches: list[int], total: int) -> list[int]:
    """The first batches, up to the one that completes `total` tokens (the prompt; the reply's come after)."""
    done = 0
    for i, size in enumerate(batches):
        done += size
        if done >= total:
            return batches[: i + 1]
    return batches


def test_the_last_prompt_token_goes_alone_fresh_or_cached(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512, n_threads=1, n_batch=64))
    batches: list[int] = []
    decode = model._decode
    monkeypatch.setattr(model, "_decode", lambda tokens, *out: batches.append(len(tokens)) or decode(tokens, *out))
    try:
        _, tokens = model.encode(QUESTION)
        first = model.generate(QUESTION, SEEDED, lambda text, n: None)
        prompt_batches, batches[:] = _until(batches, len(tokens)), []
        again = model.generate(QUESTION, SEEDED, lambda text, n: None)
    finally:
        model.close()
    assert sum(prompt_batches) == len(tokens) and prompt_batches[-1] == 1  # fresh: the rest, then the last alone
    assert all(size <= 64 for size in prompt_batches)
    assert again.stats.cached_tokens == len(tokens) - 1 and batches[0] == 1  # cached: the last alone
    assert again.text == first.text
