"""What each step of the batching engine hands llama.cpp (BatchScheduler._plan).

A prompt chunk goes into a step of its own, so llama.cpp computes it as when its request is alone (a
mixed batch is cut into ubatches of other sizes, whose kernels round differently); prompt chunks and
the replies' tokens take turns, and a newcomer's prompt is read at the next step.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest

from app.engine import protocol as p
from app.engine.batch_scheduler import BatchScheduler
from app.engine.protocol import ChatMessage, LoadOptions, OverflowPolicy
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams
from app.engine.worker import ReplyStream

Step = list[tuple[int, int]]  # (sequence, tokens it has in the step)


class FakeWorker:
    """The WorkerSide the scheduler needs: requests in, events out."""

    def __init__(self, model: LoadedModel) -> None:
        self.model: LoadedModel | None = model
        self.requests: queue.Queue[p.Request] = queue.Queue()
        self.stopped: set[int] = set()
        self.cancel_lock = threading.Lock()
        self.events: list[p.Event] = []

    def send(self, event: p.Event) -> None:
        self.events.append(event)

    def handle(self, request: p.Request) -> None:
        raise AssertionError(f"not expected here: {request}")

    def done(self) -> dict[int, p.Done]:
        return {e.id: e for e in self.events if isinstance(e, p.Done)}


@pytest.fixture()
def batch_model(tiny_model: Path):
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=1024, n_parallel=2, n_threads=1, n_batch=32))
    yield model
    model.close()


def chat(request_id: int, text: str, max_tokens: int) -> p.Chat:
    return p.Chat(request_id, [ChatMessage("user", text)], SamplingParams(temperature=0.0, max_tokens=max_tokens),
                  OverflowPolicy.STOP, "default")


def run_recording(model: LoadedModel, first: p.Chat, *later: p.Chat) -> tuple[FakeWorker, list[Step]]:
    """Run `first` with `later` already queued; every step's (sequence, token count) pairs."""
    worker = FakeWorker(model)
    for request in later:
        worker.requests.put(request)
    scheduler = BatchScheduler(worker, model, ReplyStream)
    steps = record(scheduler)
    assert scheduler.run(first) is None
    return worker, steps


def record(scheduler: BatchScheduler) -> list[Step]:
    """The steps `scheduler` will take, as they are planned."""
    steps: list[Step] = []
    plan = scheduler._plan

    def recorded(active):
        chosen = plan(active)
        steps.append([(slot.seq, len(tokens)) for slot, tokens, _ in chosen])
        return chosen

    scheduler._plan = recorded  # type: ignore[method-assign]
    return steps


def test_a_prompt_chunk_is_never_mixed_with_the_replies_tokens_and_the_two_take_turns(batch_model):
    long_question = " ".join(f"word{i}" for i in range(60))  # more than one 32-token chunk
    worker, steps = run_recording(batch_model, chat(1, "first", 6), chat(2, long_question, 4))
    done = worker.done()
    assert done[1].stats.completion_tokens == 6 and done[2].stats.completion_tokens == 4
    prompt_steps = [s for s in steps if len(s) == 1 and s[0][1] > 1]
    assert steps[0] == [(0, done[1].stats.prompt_tokens)]  # the first prompt, alone
    for step in steps:
        # a step is one sequence's prompt chunk, or one token for each reply being written
        assert (len(step) == 1) or all(n == 1 for _seq, n in step), steps
    chunks = [n for s in prompt_steps for seq, n in s if seq == 1]
    assert sum(chunks) == done[2].stats.prompt_tokens and max(chunks) == 32 and len(chunks) >= 2
    # between two chunks of the long prompt the first reply writes a token
    first_chunk = steps.index([(1, chunks[0])])
    assert steps[first_chunk + 1] == [(0, 1)] and steps[first_chunk + 2] == [(1, chunks[1])]


def test_a_newcomers_prompt_is_read_at_the_step_after_it_comes(batch_model):
    worker = FakeWorker(batch_model)
    scheduler = BatchScheduler(worker, batch_model, ReplyStream)
    steps: list[Step] = []
    plan = scheduler._plan

    def recorded(active):
        if len(steps) == 3:  # the first reply is being written: a newcomer arrives
            worker.requests.put(chat(2, "second", 2))
            scheduler._pull()
            scheduler._admit()
            active = [slot for slot in scheduler.slots if slot.reply is not None]
        chosen = plan(active)
        steps.append([(slot.seq, len(tokens)) for slot, tokens, _ in chosen])
        return chosen

    scheduler._plan = recorded  # type: ignore[method-assign]
    scheduler.run(chat(1, "first", 8))
    assert steps[1:3] == [[(0, 1)], [(0, 1)]]
    assert steps[3] == [(1, worker.done()[2].stats.prompt_tokens)]  # read at once, alone
    assert steps[4] == [(0, 1), (1, 1)]  # then both write


def test_the_same_prompt_again_starts_from_its_kept_logits_and_reads_nothing(batch_model):
    worker = FakeWorker(batch_model)
    scheduler = BatchScheduler(worker, batch_model, ReplyStream)
    steps = record(scheduler)
    greedy = SamplingParams(temperature=0.0, max_tokens=6, top_logprobs=3)
    seeded = SamplingParams(temperature=0.9, top_k=40, seed=7, max_tokens=6, top_logprobs=3)
    question = [ChatMessage("user", "the same question twice")]
    for n, sampling in enumerate([greedy, greedy, seeded, seeded]):
        if n == 2:  # the third reads its last token again and picks through llama_sampler_sample, as before
            scheduler.slots[0].replay = None
        steps.clear()
        scheduler.run(p.Chat(n + 1, question, sampling, OverflowPolicy.STOP, "default"))
        if n in (1, 3):  # the same prompt as the reply before: its first token comes without a step
            assert steps == [[(0, 1)]] * 5, steps  # 6 tokens, 5 steps: one for each token after the first
    done = worker.done()
    assert done[3].stats.cached_tokens == done[3].stats.prompt_tokens - 1  # its last token was read again
    for again in (2, 4):
        assert done[again].stats.cached_tokens == done[again].stats.prompt_tokens
    assert done[2].text == done[1].text and done[2].probs == done[1].probs
    # the seeded chain given the kept row (sampler_chain.sample_from) picks as llama_sampler_sample did
    assert done[4].text == done[3].text and done[4].probs == done[3].probs


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "gemma-3-270m-q4_k_m.gguf"])
def test_a_regenerated_reply_in_a_batch_sees_exactly_the_first_ones_logits_on_a_real_model(name: str):
    """Its prompt's last token evaluated again alone would round differently on these quantizations."""
    from app.engine import EngineClient
    from tests.engine.test_batch_decoding import Reply
    from tests.support.real_models import test_models_dir

    path = test_models_dir() / name
    if not path.exists():
        pytest.skip(f"{path} is not cached")
    sampling = SamplingParams(temperature=0.0, max_tokens=6, top_logprobs=5)
    question = [ChatMessage("user", "Name one colour.")]  # alone, its last token came out 0.05-0.1 apart
    replies = []
    with EngineClient() as engine:
        engine.load(LoadOptions(str(path), n_ctx=2048, n_parallel=2, n_threads=2))
        for _ in range(2):
            reply = Reply()
            engine.start_chat(question, sampling, OverflowPolicy.STOP, "default", reply)
            end = reply.wait()
            assert isinstance(end, p.Done), end
            replies.append(end)
    first, again = replies
    assert again.stats.cached_tokens == again.stats.prompt_tokens
    assert again.text == first.text
    assert again.probs[0] == first.probs[0]  # the same floats, not merely close
