"""The Tokenize and NextTokens engine jobs with the real SmolLM2: what the Tokens views and the sampling chart show."""

from __future__ import annotations

import pytest

from app.engine import LoadOptions
from app.engine import protocol as p
from app.engine.protocol import ChatMessage, EngineError
from app.engine.sampling import SamplingParams


def test_a_draft_splits_into_the_models_tokens_and_joins_back(engine, smollm2):
    engine.load(LoadOptions(str(smollm2), n_ctx=512))
    text = "Hello there,\n  how are tokens made?"
    got = engine.tokenize(text)
    assert isinstance(got, p.Tokenized) and len(got.tokens) > 5
    assert b"".join(piece for _id, piece, _special in got.tokens).decode() == text
    assert not any(special for _id, _piece, special in got.tokens)
    typed = engine.tokenize("<|im_start|>")  # text a user types never becomes a control token
    assert len(typed.tokens) > 1 and not any(s for _i, _p, s in typed.tokens)
    assert engine.tokenize("").tokens == ()


def test_a_chats_prompt_has_its_template_tokens_marked_and_the_counts_agree(engine, smollm2):
    engine.load(LoadOptions(str(smollm2), n_ctx=512))
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
    got = engine.tokenize(messages=messages)
    rendered = engine.render_prompt(messages)
    assert len(got.tokens) == rendered.prompt_tokens
    assert b"".join(piece for _i, piece, _s in got.tokens).decode() == rendered.prompt
    specials = [piece for _i, piece, special in got.tokens if special]
    assert b"<|im_start|>" in specials and b"<|im_end|>" in specials


def test_the_next_tokens_at_a_step_of_a_reply_are_those_kept_with_it(engine, smollm2):
    engine.load(LoadOptions(str(smollm2), n_ctx=512))
    messages = [ChatMessage("user", "Name three colours.")]
    done = list(engine.chat(messages, SamplingParams(temperature=0.0, max_tokens=8, top_logprobs=5)))[-1]
    assert isinstance(done, p.Done) and len(done.probs) == 8
    chosen = [step.chosen.id for step in done.probs]
    # the cache holds the whole reply, then only the prompt: the reply's own numbers, as kept with it
    for step in (5, 0):
        found = engine.next_tokens(messages, chosen[:step])
        assert len(found.top) == 20
        assert [c.id for c in found.top[:5]] == [c.id for c in done.probs[step].top]
        for mine, kept in zip(found.top, done.probs[step].top, strict=False):
            assert mine.logprob == pytest.approx(kept.logprob, abs=0.01)
        assert sum(c.prob for c in found.top) <= 1.0 + 1e-6
    # tokens not in the cache are evaluated in one batch, not one by one as written: sums round a little
    # differently, so only the best token is the same for sure
    assert engine.next_tokens(messages, chosen[:4]).top[0].id == chosen[4]
    again = list(engine.chat(messages, SamplingParams(temperature=0.0, max_tokens=8)))[-1]
    assert again.text == done.text  # the chart's evaluation leaves the cache as good as it found it


def test_without_a_model_the_jobs_say_so(engine):
    with pytest.raises(EngineError, match="no model"):
        engine.tokenize("hi")
    with pytest.raises(EngineError, match="no model"):
        engine.next_tokens([ChatMessage("user", "hi")])
