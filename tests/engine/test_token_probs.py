"""Per-token probabilities: the arithmetic, the JSON form, and a real reply through the engine process."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine import LoadOptions
from app.engine import protocol as p
from app.engine.probs_probe import measure
from app.engine.protocol import ChatMessage
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice, TokenProbs, probs_from_json, probs_to_json


class Pieces(dict):
    def __missing__(self, token):
        return (False, f"<{token}>".encode())


def test_measure_is_the_log_softmax_of_the_logits_and_the_best_tokens_first():
    logits = np.array([1.0, 3.0, 2.0, -1.0, 3.0], dtype=np.float32)
    got = measure(logits, 2, 3, Pieces())
    total = sum(math.exp(x) for x in logits)
    assert got.chosen.id == 2 and got.chosen.piece == b"<2>"
    assert got.chosen.logprob == pytest.approx(math.log(math.exp(2.0) / total), abs=1e-6)
    assert [c.id for c in got.top] == [1, 4, 2]  # ties keep the lower id first, as a stable sort does
    assert sum(math.exp(c.logprob) for c in got.top) < 1.0
    assert measure(logits, 0, 0, Pieces()).top == ()


def test_probabilities_survive_json_also_a_token_that_splits_a_character():
    steps = (TokenProbs(TokenChoice(7, "é".encode()[:1], -0.25), (TokenChoice(7, b"\xc3", -0.25),
                                                                 TokenChoice(9, b" the", -2.5))),
             TokenProbs(TokenChoice(3, b"\xa9", -0.00012)))  # kept to 5 decimals
    assert probs_from_json(probs_to_json(steps)) == steps
    assert steps[1].chosen.text == "\ufffd" and steps[0].top[1].prob == pytest.approx(math.exp(-2.5))
    with pytest.raises(ValueError):
        probs_from_json([["not", "steps"]])


def test_sampling_params_carry_the_request_only_when_it_is_on():
    assert "top_logprobs" not in SamplingParams().to_dict()  # saved chats read as before
    asked = SamplingParams(top_logprobs=50).validated()
    assert asked.top_logprobs == 20
    assert SamplingParams.from_dict(asked.to_dict()) == asked


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_a_reply_carries_one_step_per_token_streamed_and_in_done(engine, tiny_model, temperature):
    engine.load(LoadOptions(str(tiny_model), n_ctx=256))
    sampling = SamplingParams(temperature=temperature, max_tokens=12, seed=3, top_logprobs=4)
    events = list(engine.chat([ChatMessage("user", "hi")], sampling))
    done = events[-1]
    assert isinstance(done, p.Done)
    assert len(done.probs) == done.stats.completion_tokens == 12
    streamed = [s for e in events if isinstance(e, p.Token) for s in e.probs]
    assert streamed == list(done.probs)[:len(streamed)] and len(streamed) >= 11
    for step in done.probs:
        assert len(step.top) == 4 and step.chosen.logprob <= 0.0
        assert [c.logprob for c in step.top] == sorted((c.logprob for c in step.top), reverse=True)
        if temperature == 0.0:  # greedy without penalties picks the best token
            assert step.chosen == step.top[0]
    plain = list(engine.chat([ChatMessage("user", "hi")], SamplingParams(temperature=temperature, max_tokens=12,
                                                                           seed=3)))
    assert plain[-1].probs == () and all(e.probs == () for e in plain if isinstance(e, p.Token))
    assert plain[-1].text == done.text  # asking for probabilities changes no token
