"""A slow prompt says how far it has been read: the model keeps the position, the worker's heartbeat
turns it into protocol.Reading after a second, and the chat page shows it until the first token."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams
from app.engine.worker import READING_AFTER_SECONDS, Worker


def test_the_model_keeps_how_far_its_prompt_has_been_read(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512, n_threads=1, n_batch=32))
    seen: list[tuple[int, int] | None] = []
    decode = model._decode
    monkeypatch.setattr(model, "_decode", lambda tokens, *out: seen.append(model.reading) or decode(tokens, *out))
    try:
        messages = [ChatMessage("user", "word " * 100)]
        _, tokens = model.encode(messages)
        model.generate(messages, SamplingParams(temperature=0.0, max_tokens=2), lambda text, n: None)
    finally:
        model.close()
    prompt = [r for r in seen if r is not None]
    assert [done for done, _ in prompt] == list(range(0, len(tokens), 32))  # whole n_batch chunks
    assert {total for _, total in prompt} == {len(tokens)}
    assert model.reading is None  # cleared once the prompt is read


def test_the_heartbeat_reports_a_slow_prompt_read(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = Worker(SimpleNamespace())  # type: ignore[arg-type]
    worker.model = SimpleNamespace(reading=(1536, 4100))
    worker.current = p.Chat(7, (ChatMessage("user", "hi"),))
    worker.busy_since = time.monotonic()
    assert isinstance(worker.heartbeat(), p.Heartbeat)  # under a second: nothing to say yet
    worker.busy_since -= READING_AFTER_SECONDS
    assert worker.heartbeat() == p.Reading(7, 1536, 4100)
    worker.model.reading = None  # the reply is being written
    assert isinstance(worker.heartbeat(), p.Heartbeat)
    worker.model.reading = (10, 20)
    worker.current = p.Count(8, (ChatMessage("user", "hi"),), "", p.OverflowPolicy.STOP, 10)
    assert isinstance(worker.heartbeat(), p.Heartbeat)  # only replies report reading


def test_a_batch_reports_each_slow_prompt_apart() -> None:
    """With several replies in one batch (n_parallel > 1) the heartbeat says how far each slow prompt is."""
    from app.engine.batch_slots import BatchSlot, Prepared, Reply, slow_readings

    def slot(seq: int, request_id: int, evaluated: int, started: float, next_token: int = -1) -> BatchSlot:
        each = BatchSlot(seq, [])
        job = Prepared(request_id, SamplingParams(), "", list(range(4000)), None, started)
        each.reply = Reply(job, 0, None, None, 8192, started, evaluated=evaluated, next_token=next_token)
        return each

    now = time.perf_counter()
    slots = [slot(0, 7, 1024, now - 2), slot(1, 8, 512, now - 0.2), slot(2, 9, 4000, now - 5, next_token=3),
             BatchSlot(3, [])]
    assert slow_readings(slots, READING_AFTER_SECONDS) == [p.Reading(7, 1024, 4000)]  # 8: too soon; 9: writing
    assert slow_readings(slots, 0.1) == [p.Reading(7, 1024, 4000), p.Reading(8, 512, 4000)]
