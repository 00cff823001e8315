"""A seeded header fuzzer: mutants of real headers are read, or refused with the library's own error, quickly.

A few hundred mutants here (a few seconds); bench/header_fuzz.py runs thousands and prints a table.
"""

from __future__ import annotations

from app.library.gguf_reader import MEMORY_BUDGET
from tests.support import header_fuzz

TIME_LIMIT = 2.0  # a real header reads in milliseconds: a mutant that needs the deadline is a hang
OUTCOMES = {"read", "not_gguf", "truncated"}


def _check(outcomes) -> list[str]:
    seen = []
    for outcome in outcomes:
        assert outcome.result in OUTCOMES, outcome  # never another exception, never the deadline
        assert outcome.seconds < TIME_LIMIT, outcome
        assert outcome.peak_bytes < MEMORY_BUDGET, outcome
        seen.append(outcome.result)
    return seen


def test_mutants_of_a_tiny_models_header(tmp_path, tiny_model):
    seen = _check(header_fuzz.run(tiny_model, tmp_path, count=300, seed=29, time_limit=TIME_LIMIT))
    assert len(seen) == 300 and {"read", "not_gguf", "truncated"} <= set(seen)  # the mutants reach every outcome


def test_mutants_of_smollm2s_header(tmp_path, smollm2):
    # tracemalloc would make each read of a 49,152-token header 10x slower: memory is checked on the tiny model
    outcomes = header_fuzz.run(smollm2, tmp_path, count=120, seed=29, time_limit=TIME_LIMIT,
                                   measure_memory_every=0)
    seen = _check(outcomes)
    assert len(seen) == 120 and {"read", "not_gguf", "truncated"} <= set(seen)
