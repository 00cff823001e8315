"""The sampling chart's arithmetic: each setting reshapes the candidates the way the sampler chain does."""

from __future__ import annotations

import math

import pytest

from app.chat.sampling_preview import OTHERS, reshape
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice

CANDIDATES = [TokenChoice(1, b" is", math.log(0.5)), TokenChoice(2, b" was", math.log(0.3)),
              TokenChoice(3, b" has", math.log(0.1))]
PLAIN = SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0)


def after(bars):
    return {b.id: round(b.after, 4) for b in bars}


def test_neutral_settings_change_nothing_and_the_rest_is_one_entry():
    bars = reshape(CANDIDATES, PLAIN)
    assert [b.id for b in bars] == [1, 2, 3, OTHERS]
    assert after(bars) == {1: 0.5, 2: 0.3, 3: 0.1, OTHERS: 0.1}
    assert [b.before for b in bars] == pytest.approx([0.5, 0.3, 0.1, 0.1])


def test_each_cut_and_temperature():
    from dataclasses import replace

    assert after(reshape(CANDIDATES, replace(PLAIN, top_k=2))) == {1: 0.625, 2: 0.375, 3: 0.0, OTHERS: 0.0}
    top_p = reshape(CANDIDATES, replace(PLAIN, top_p=0.75))
    assert after(top_p)[3] == 0.0 and [b.cut_by for b in top_p] == ["", "", "top-p", "top-p"]
    assert after(reshape(CANDIDATES, replace(PLAIN, min_p=0.5))) == {1: 0.625, 2: 0.375, 3: 0.0, OTHERS: 0.0}
    hot = reshape(CANDIDATES, replace(PLAIN, temperature=2.0))
    cold = reshape(CANDIDATES, replace(PLAIN, temperature=0.5))
    assert after(hot)[1] < 0.5 < after(cold)[1]
    assert after(reshape(CANDIDATES, replace(PLAIN, temperature=0.0))) == {1: 1.0, 2: 0.0, 3: 0.0, OTHERS: 0.0}
    penalised = after(reshape(CANDIDATES, replace(PLAIN, repeat_penalty=2.0), recent={1}))
    assert penalised[1] < penalised[2] + 0.01 and penalised[1] == pytest.approx(0.25 / 0.75, abs=1e-3)


def test_the_other_tokens_are_cut_with_the_last_candidate():
    from dataclasses import replace

    many = [*CANDIDATES[:2], TokenChoice(3, b" has", math.log(0.02))]  # the others hold 18%, each less than 2%
    assert reshape(many, replace(PLAIN, top_k=3))[-1].cut_by == "top-k"
    assert reshape(many, replace(PLAIN, min_p=0.05))[-1].cut_by == "min-p"
    assert reshape(many, replace(PLAIN, top_k=4))[-1].cut_by == ""
