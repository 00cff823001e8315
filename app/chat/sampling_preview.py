"""How the sampling settings reshape the model's candidates at one token (the sampling chart's numbers).

The steps follow Hearth's llama.cpp sampler chain (engine/sampler_chain.py): repeat penalty, top-k,
top-p, min-p, then temperature, and the token is drawn from what is left. The chart knows only the
candidates kept with the reply (the top few) and lumps every other token into one "others" entry,
so its numbers are a close picture, not the engine's exact arithmetic: the repeat penalty is shown as
dividing a repeated token's probability by the penalty (llama.cpp divides a positive logit, which for
a likely token comes to much the same), and "others" is treated as one token of the remaining mass.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice

OTHERS = -1  # the id of the lumped entry


@dataclass(frozen=True)
class Bar:
    id: int  # OTHERS for every other token
    text: str
    before: float  # the model's probability
    after: float  # the chance of being picked with these settings (0: cut)
    cut_by: str = ""  # "top-k", "top-p" or "min-p" when a cut removed it


def reshape(candidates: Sequence[TokenChoice], sampling: SamplingParams, recent: Collection[int] = ()) -> list[Bar]:
    """The candidates (best first) and the others, before and after `sampling`."""
    best = sorted(candidates, key=lambda c: -c.logprob)
    rest = max(1.0 - sum(c.prob for c in best), 0.0)
    entries = [(c.id, c.text, c.logprob) for c in best]
    if rest > 1e-9:
        entries.append((OTHERS, "all other tokens", math.log(rest)))
    logits = {i: lp - (math.log(sampling.repeat_penalty) if i in recent and i != OTHERS else 0.0)
              for i, _t, lp in entries}
    # the other tokens are each less likely than every candidate: they come last, whatever their sum
    order = sorted((i for i in logits if i != OTHERS), key=lambda i: -logits[i]) + [i for i in logits if i == OTHERS]
    cut: dict[int, str] = {}
    if sampling.top_k > 0:
        cut.update(dict.fromkeys(order[sampling.top_k:], "top-k"))
        if sampling.top_k <= len(best):
            cut.setdefault(OTHERS, "top-k")
    alive = [i for i in order if i not in cut]
    probs = _softmax({i: logits[i] for i in alive})
    if sampling.top_p < 1.0:
        total = 0.0
        for i in alive:
            if total >= sampling.top_p:
                cut[i] = "top-p"
            total += probs[i]
    alive = [i for i in alive if i not in cut]
    if sampling.min_p > 0.0 and alive:
        top = max(probs[i] for i in alive)
        cut.update({i: "min-p" for i in alive if probs[i] < sampling.min_p * top and i != alive[0]})
        if OTHERS in alive and any(cut.get(i) == "min-p" for i in alive):
            cut[OTHERS] = "min-p"  # each other token is less likely than a candidate it cut
    alive = [i for i in alive if i not in cut]
    if sampling.greedy:
        after = {alive[0]: 1.0} if alive else {}
    else:
        after = _softmax({i: logits[i] / sampling.temperature for i in alive})
    return [Bar(i, text, math.exp(lp), after.get(i, 0.0), cut.get(i, "")) for i, text, lp in entries]


def _softmax(logits: dict[int, float]) -> dict[int, float]:
    if not logits:
        return {}
    peak = max(logits.values())
    weights = {i: math.exp(v - peak) for i, v in logits.items()}
    total = sum(weights.values())
    return {i: w / total for i, w in weights.items()}
