"""Grammar-constrained sampling (SamplingParams.grammar): whatever a random model samples under a forced
tool call's grammar is a call of the tool's schema, on the one-sequence path and in a batch
(`hearth serve --parallel`); a grammar llama.cpp cannot parse fails that request alone, with a sentence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from app.engine import ChatMessage, Done, EngineClient, Error, LoadOptions, SamplingParams, StopReason
from app.engine.protocol import ErrorKind
from app.engine.sampler_chain import BAD_GRAMMAR
from app.server.tool_grammar import call_grammar, forced_calls
from app.server.tool_requests import ToolOptions

# Every value bounded (an enum, an integer of at most 16 digits, a boolean), so a random model's reply ends.
FORECAST = {"type": "function", "function": {"name": "set_forecast", "parameters": {
    "type": "object", "required": ["unit", "days", "detailed"], "properties": {
        "unit": {"enum": ["celsius", "fahrenheit"]}, "days": {"type": "integer"}, "detailed": {"type": "boolean"}}}}}
ONE_CALL = ToolOptions((FORECAST,), "required", parallel=False)
HI = [ChatMessage("user", "hi")]
RANDOM = SamplingParams(temperature=1.0, top_p=1.0, top_k=0, min_p=0.0, repeat_penalty=1.0, max_tokens=400)


def _reply(engine: EngineClient, sampling: SamplingParams) -> Done | Error:
    last = list(engine.chat(HI, sampling))[-1]
    assert isinstance(last, (Done, Error))
    return last


def _arguments(done: Done | Error) -> dict[str, object]:
    assert isinstance(done, Done) and done.stats.stop_reason == StopReason.EOS, done
    [call] = forced_calls(done.text, ONE_CALL)
    assert call.name == "set_forecast"
    arguments: dict[str, object] = json.loads(call.arguments)
    return arguments


@pytest.mark.parametrize("n_parallel", [1, 2])
def test_a_random_model_under_the_call_grammar_writes_a_call_of_the_schema(tiny_model: Path, n_parallel: int) -> None:
    grammar = call_grammar(ONE_CALL)
    with EngineClient() as engine:
        engine.load(LoadOptions(str(tiny_model), n_ctx=1024, n_parallel=n_parallel, n_threads=2))
        plain = _reply(engine, replace(RANDOM, seed=1, max_tokens=40))
        assert isinstance(plain, Done) and forced_calls(plain.text, ONE_CALL) == ()  # without it: no call
        greedy = replace(RANDOM, temperature=0.0, grammar=grammar)  # greedy: the chain, never the plain argmax
        for sampling in [replace(RANDOM, seed=seed, grammar=grammar) for seed in range(3)] + [greedy]:
            arguments = _arguments(_reply(engine, sampling))
            assert set(arguments) == {"unit", "days", "detailed"}
            assert arguments["unit"] in ("celsius", "fahrenheit")
            assert isinstance(arguments["days"], int) and isinstance(arguments["detailed"], bool)
        bad = _reply(engine, replace(RANDOM, grammar="root ::= missing-rule"))
        assert isinstance(bad, Error) and bad.kind == ErrorKind.BAD_REQUEST and bad.message == BAD_GRAMMAR
        assert isinstance(_reply(engine, replace(RANDOM, seed=2, max_tokens=8)), Done)  # the engine goes on
