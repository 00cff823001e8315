"""The raw Complete request: the prompt is tokenized as given, no chat template."""

from __future__ import annotations

from app.engine import Done, LoadOptions, SamplingParams, Token
from app.engine.protocol import StopReason

GREEDY = SamplingParams(temperature=0.0, repeat_penalty=1.0, top_k=0, min_p=0.0, top_p=1.0)


def test_complete_continues_the_text_and_counts_the_prompt_as_given(engine, smollm2):
    engine.load(LoadOptions(path=str(smollm2), n_ctx=512, n_gpu_layers=0))
    events = list(engine.complete("The capital of France is", SamplingParams(**{**GREEDY.__dict__, "max_tokens": 3})))
    done = events[-1]
    assert isinstance(done, Done)
    assert done.text.startswith(" Paris")
    assert "".join(e.text for e in events if isinstance(e, Token)) == done.text
    # Five tokens of text and no chat template around them (a chat turn would be far longer).
    assert done.stats.prompt_tokens == 5
    assert (done.stats.completion_tokens, done.stats.stop_reason) == (3, StopReason.LENGTH)


def test_complete_can_be_cancelled(engine, smollm2):
    engine.load(LoadOptions(path=str(smollm2), n_ctx=512, n_gpu_layers=0))
    events = []
    for event in engine.complete("Once upon a time", SamplingParams(**{**GREEDY.__dict__, "max_tokens": 400})):
        events.append(event)
        if isinstance(event, Token):
            engine.cancel()
    assert events[-1].stats.stop_reason == StopReason.CANCELLED
    assert events[-1].stats.completion_tokens < 400
