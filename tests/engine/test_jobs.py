"""Engine jobs without an engine: one id space, one final event, and the blocking calls over jobs."""

from __future__ import annotations

import threading

import pytest

from app.engine import jobs
from app.engine import protocol as p
from app.engine.protocol import EngineError, ErrorKind, ModelInfo

INFO = ModelInfo("/m.gguf", "M", "llama", 1, 1, 256, 256, 1, 0, 10, "gguf", None, 0.0)


def test_job_ids_are_unique_across_threads():
    ids: list[int] = []
    threads = [threading.Thread(target=lambda: ids.extend(jobs.new_job_id() for _ in range(500))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 2000


def test_nothing_is_delivered_after_the_final_event_and_a_failing_handler_is_survived():
    seen: list[p.Event] = []

    def handler(event: p.Event) -> None:
        seen.append(event)
        if isinstance(event, p.Progress):
            raise RuntimeError("a bug in the caller")

    events = jobs.JobEvents(handler)
    assert events.send(p.Progress(1, 0.5))  # the handler's error is logged, not raised into the engine
    assert events.send(p.Loaded(1, INFO)) and events.done.is_set()
    assert not events.send(p.Error(1, ErrorKind.CRASHED, "late"))
    assert [type(e) for e in seen] == [p.Progress, p.Loaded]


def test_wait_load_reports_progress_and_raises_the_jobs_error():
    fractions: list[float] = []

    def start(sink: jobs.EventSink) -> int:
        sink(p.Progress(7, 0.0))
        sink(p.Progress(7, 1.0))
        sink(p.Loaded(7, INFO))
        return 7

    assert jobs.wait_load(start, fractions.append) is INFO and fractions == [0.0, 1.0]

    def failing(sink: jobs.EventSink) -> int:
        sink(p.Error(8, ErrorKind.NOT_GGUF, "not a model", detail="traceback"))
        return 8

    with pytest.raises(EngineError) as failed:
        jobs.wait_load(failing)
    assert (failed.value.kind, failed.value.message, failed.value.detail) == (ErrorKind.NOT_GGUF, "not a model",
                                                                             "traceback")


def test_a_stream_left_early_or_stopped_cancels_its_job():
    cancelled: list[int] = []
    sinks: list[jobs.EventSink] = []

    def start(sink: jobs.EventSink) -> int:
        sinks.append(sink)
        sink(p.Token(5, "Hel", 1))
        sink(p.Token(5, "lo", 2))
        return 5

    reply = jobs.stream(start, cancelled.append)
    assert next(reply).text == "Hel"
    reply.close()  # the caller stopped reading
    assert cancelled == [5]

    stop = threading.Event()
    reply = jobs.stream(start, lambda job_id: (cancelled.append(job_id), sinks[-1](p.Done(job_id, p.Stats()))), stop)
    assert next(reply).text == "Hel"
    stop.set()
    assert [type(e) for e in reply] == [p.Token, p.Done] and cancelled == [5, 5]


def test_a_stream_stopped_before_it_starts_never_starts():
    stop = threading.Event()
    stop.set()
    events = list(jobs.stream(lambda sink: pytest.fail("started"), lambda _id: None, stop))
    assert len(events) == 1 and events[0].stats.stop_reason == p.StopReason.CANCELLED


def test_wait_for_returns_the_answer_or_raises():
    counted = jobs.wait_for(lambda sink: sink(p.Counted(3, p.CountResult(10, 256, 10))) or 3, p.Counted)
    assert counted.result.prompt_tokens == 10
    with pytest.raises(EngineError, match="no model"):
        jobs.wait_for(lambda sink: sink(p.Error(4, ErrorKind.NO_MODEL, "no model is loaded")) or 4, p.Rendered)


def test_a_stream_whose_tokens_never_pause_is_still_stopped_at_once():
    """Tokens every 20 ms (a reply in full flow, faster than the stop poll): `stop` must still cancel it.

    Found by an API client that hung up mid-stream: its reply ran on to max_tokens."""
    import time

    cancelled = threading.Event()
    stop = threading.Event()

    def start(sink):
        def write():
            n = 0
            while not cancelled.is_set() and n < 500:
                n += 1
                sink(p.Token(7, "x", n))
                time.sleep(0.02)
            sink(p.Done(7, p.Stats(completion_tokens=n, stop_reason=p.StopReason.CANCELLED)))

        threading.Thread(target=write, daemon=True).start()
        return 7

    seen = 0
    began = time.monotonic()
    for event in jobs.stream(start, lambda _job: cancelled.set(), stop):
        seen += 1
        if seen == 3:
            stop.set()
        if isinstance(event, p.Done):
            break
    assert cancelled.is_set() and time.monotonic() - began < 2.0 and seen < 20
