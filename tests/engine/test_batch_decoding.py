"""Continuous batching (batch_scheduler.py): several replies decoded together in one engine.

Each reply keeps its own sampling, stops, length and cache; one stopped leaves the others as they were;
a greedy reply written beside others is the one written alone. Real SmolLM2 where it is cached, tiny
generated models otherwise.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

import pytest

from app.engine import EngineClient
from app.engine import protocol as p
from app.engine.protocol import ChatMessage, ErrorKind, LoadOptions, OverflowPolicy, StopReason
from app.engine.sampling import SamplingParams

GREEDY = SamplingParams(temperature=0.0, max_tokens=12)
QUESTIONS = ["Name three fruits.", "What is the capital of France?", "Count from one to ten.",
             "Write a haiku about rain."]


class Reply:
    """One chat job's events, collected as they come."""

    def __init__(self) -> None:
        self.events: queue.Queue[p.Event] = queue.Queue()
        self.tokens: list[p.Token] = []
        self.first_token = threading.Event()
        self.end: p.Done | p.Error | None = None

    def __call__(self, event: p.Event) -> None:
        if isinstance(event, p.Token):
            self.tokens.append(event)
            self.first_token.set()
        self.events.put(event)

    def wait(self, timeout: float = 120) -> p.Done | p.Error:
        while self.end is None:
            event = self.events.get(timeout=timeout)
            if isinstance(event, (p.Done, p.Error)):
                self.end = event
        return self.end

    @property
    def text(self) -> str:
        end = self.wait()
        assert isinstance(end, p.Done), end
        return end.text


def start(engine: EngineClient, question: str, sampling: SamplingParams = GREEDY) -> tuple[int, Reply]:
    reply = Reply()
    job = engine.start_chat([ChatMessage("user", question)], sampling, OverflowPolicy.STOP, "default", reply)
    return job, reply


def alone(engine: EngineClient, questions: Sequence[str], sampling: SamplingParams = GREEDY) -> list[str]:
    return [start(engine, q, sampling)[1].text for q in questions]


def together(engine: EngineClient, questions: Sequence[str], sampling: SamplingParams = GREEDY) -> list[str]:
    replies = [start(engine, q, sampling)[1] for q in questions]
    return [r.text for r in replies]


@pytest.fixture(scope="module")
def smol_batch(smollm2):
    with EngineClient() as engine:
        info = engine.load(LoadOptions(str(smollm2), n_ctx=2048, n_parallel=4, n_threads=2))
        assert info.n_parallel == 4 and info.n_ctx == 512  # split as llama-server's -np 4: 2048 / 4 each
        yield engine


@pytest.fixture(scope="module")
def tiny_batch(tiny_model):
    with EngineClient() as engine:
        engine.load(LoadOptions(str(tiny_model), n_ctx=512, n_parallel=2, n_threads=2))
        yield engine


def test_greedy_replies_written_together_equal_the_replies_written_alone(smol_batch):
    one_by_one = alone(smol_batch, QUESTIONS)
    assert all(one_by_one) and len(set(one_by_one)) == len(QUESTIONS)
    assert together(smol_batch, QUESTIONS) == one_by_one


def test_stopping_one_reply_leaves_the_other_as_it_would_be(tiny_batch):
    long = SamplingParams(temperature=0.0, max_tokens=60)
    expected = alone(tiny_batch, ["keep me"], long)[0]
    _, kept = start(tiny_batch, "keep me", long)
    stopped_id, stopped = start(tiny_batch, "stop me", long)
    assert stopped.first_token.wait(60)
    tiny_batch.cancel(stopped_id)
    end = stopped.wait()
    assert isinstance(end, p.Done) and end.stats.stop_reason == StopReason.CANCELLED
    assert end.stats.completion_tokens < 60
    assert kept.text == expected


def test_a_reply_joins_and_leaves_between_the_tokens_of_another(tiny_batch):
    long, short = SamplingParams(temperature=0.0, max_tokens=80), SamplingParams(temperature=0.0, max_tokens=3)
    expected_long, expected_short = alone(tiny_batch, ["the long one"], long)[0], alone(tiny_batch, ["short"],
                                                                                         short)[0]
    _, first = start(tiny_batch, "the long one", long)
    assert first.first_token.wait(60)
    _, newcomer = start(tiny_batch, "short", short)
    newcomer_end = newcomer.wait()
    assert first.end is None  # still writing when the newcomer has ended
    assert isinstance(newcomer_end, p.Done) and newcomer_end.text == expected_short
    assert newcomer_end.stats.completion_tokens == 3 and newcomer_end.stats.stop_reason == StopReason.LENGTH
    assert first.text == expected_long


def test_each_reply_keeps_its_own_stops_length_and_seed(scripted_model):
    sampled = SamplingParams(temperature=0.9, seed=7, max_tokens=6)
    with EngineClient() as engine:
        engine.load(LoadOptions(str(scripted_model), n_ctx=1024, n_parallel=3, n_threads=2))
        replies = [start(engine, "hi", SamplingParams(temperature=0.0, stop=("world",)))[1],
                   start(engine, "hi", SamplingParams(temperature=0.0, max_tokens=1))[1],
                   start(engine, "hi", SamplingParams(temperature=0.0))[1]]
        ends = [r.wait() for r in replies]
        seeded_alone = alone(engine, ["hi"], sampled)
        seeded_together = together(engine, ["hi", "hi"], sampled)
    assert [e.text for e in ends] == [" Hello ", " Hello", " Hello world"]  # type: ignore[union-attr]
    assert [e.stats.stop_reason for e in ends] == [StopReason.STOP, StopReason.LENGTH, StopReason.EOS]
    assert seeded_together == seeded_alone * 2


def test_more_requests_than_sequences_wait_their_turn_in_order(tiny_batch):
    sampling = SamplingParams(temperature=0.0, max_tokens=8)
    expected = alone(tiny_batch, ["a b c", "d e", "f", "g h", "i"], sampling)
    assert together(tiny_batch, ["a b c", "d e", "f", "g h", "i"], sampling) == expected  # 5 on 2 sequences


def test_the_context_is_split_between_sequences_and_each_stays_within_its_part(tiny_batch):
    assert tiny_batch.info is not None and tiny_batch.info.n_ctx == 256  # 512 cells, 2 sequences
    endless = SamplingParams(temperature=0.0, max_tokens=0)  # until the sequence's part is full
    _, full = start(tiny_batch, "fill it", endless)
    _, too_long = start(tiny_batch, "word " * 300, GREEDY)
    refused = too_long.wait()
    assert isinstance(refused, p.Error) and refused.kind == ErrorKind.CONTEXT_OVERFLOW
    end = full.wait()
    assert isinstance(end, p.Done) and end.stats.stop_reason in (StopReason.CONTEXT_FULL, StopReason.LENGTH)
    # the last token is picked and never stored (as on the one-sequence path): n_ctx + 1 at most
    assert 200 < end.stats.prompt_tokens + end.stats.completion_tokens <= 257


def test_a_request_that_must_run_alone_waits_for_the_batch_to_drain(tiny_model):
    sampling = SamplingParams(temperature=0.0, max_tokens=30)
    with EngineClient() as engine:
        engine.load(LoadOptions(str(tiny_model), n_ctx=1024, n_parallel=2, n_threads=2))
        replies = [start(engine, q, sampling)[1] for q in ("one", "two")]
        assert replies[0].first_token.wait(60)
        rendered = engine.render_prompt([ChatMessage("user", "between two tokens")])  # answered between tokens
        assert rendered.prompt_tokens > 0
        unloaded = threading.Event()
        engine.start_unload(lambda e: unloaded.set() if isinstance(e, p.Unloaded) else None)
        ends = [r.wait() for r in replies]  # both finish before the model goes
        assert all(isinstance(e, p.Done) and e.stats.completion_tokens == 30 for e in ends)
        assert unloaded.wait(60)


def test_thinking_is_split_off_and_token_probabilities_kept_as_on_the_one_sequence_path(thinking_model):
    probed = SamplingParams(temperature=0.0, top_logprobs=2)
    with EngineClient() as engine:
        engine.load(LoadOptions(str(thinking_model), n_ctx=512, n_threads=2))  # one sequence: not batched
        single = start(engine, "hi", probed)[1].wait()
    with EngineClient() as engine:
        engine.load(LoadOptions(str(thinking_model), n_ctx=1024, n_parallel=2, n_threads=2))
        replies = [start(engine, "hi", probed)[1], start(engine, "hello", SamplingParams(temperature=0.0))[1]]
        ends = [r.wait() for r in replies]
    assert isinstance(single, p.Done) and single.text.strip() == "Hello world"
    assert single.reasoning.strip() == "the user chat" and len(single.probs) == single.stats.completion_tokens
    probed_end, plain_end = ends
    assert isinstance(probed_end, p.Done)
    assert (probed_end.text, probed_end.reasoning, probed_end.stats.reasoning_tokens) == (
        single.text, single.reasoning, single.stats.reasoning_tokens)
    assert len(probed_end.probs) == len(single.probs) and len(probed_end.probs[0].top) == 2
    for together_probs, alone_probs in zip(probed_end.probs, single.probs):  # the same, up to float rounding
        assert [c.id for c in together_probs.top] == [c.id for c in alone_probs.top]
        assert together_probs.chosen.id == alone_probs.chosen.id
        assert together_probs.chosen.logprob == pytest.approx(alone_probs.chosen.logprob, abs=1e-4)
        assert [c.logprob for c in together_probs.top] == pytest.approx([c.logprob for c in alone_probs.top], abs=1e-4)
    assert isinstance(plain_end, p.Done) and plain_end.probs == () and plain_end.reasoning == single.reasoning
