"""A stopped (SIGSTOP) engine is noticed, Stop works within a second, and close() is quick."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from app.engine import Done, EngineClient, EngineError, Error, LoadOptions, SamplingParams, Token
from app.engine import protocol as p
from app.engine.protocol import ErrorKind, StopReason
from app.engine.worker import Worker
from tests.engine.test_client import run, user

ENDLESS = SamplingParams(temperature=0.0, max_tokens=0)


@pytest.fixture
def quick_engine():
    client = EngineClient(hang_timeout=1.5)
    yield client
    client.close()


def stop_process(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)


def test_a_stopped_engine_during_a_reply_is_killed_and_the_next_request_recovers(quick_engine, tiny_model):
    quick_engine.load(LoadOptions(str(tiny_model), n_ctx=2048))
    first_pid = quick_engine.pid
    partial, final = [], None
    for event in quick_engine.chat(user("Hello"), ENDLESS):
        if isinstance(event, Token):
            partial.append(event.text)
            if len(partial) == 1:
                stop_process(first_pid)
        else:
            final = event
    assert isinstance(final, Error)
    assert final.kind == ErrorKind.HUNG
    assert final.message == "the engine stopped responding; it was restarted"
    assert partial
    _, done = run(quick_engine, user("Hello"))  # a fresh engine with the model loaded again
    assert isinstance(done, Done)
    assert quick_engine.pid != first_pid


def test_a_stopped_engine_during_a_load_is_reported(quick_engine, tiny_model):
    def stop_on_first_progress(fraction: float) -> None:
        if quick_engine.pid is not None and fraction < 1.0:
            stop_process(quick_engine.pid)

    started = time.monotonic()
    with pytest.raises(EngineError) as caught:
        quick_engine.load(LoadOptions(str(tiny_model), n_ctx=512), stop_on_first_progress)
    assert caught.value.kind == ErrorKind.HUNG
    assert time.monotonic() - started < 10
    info = quick_engine.load(LoadOptions(str(tiny_model), n_ctx=512))  # the next load starts a fresh engine
    assert info.n_ctx == 512


def test_a_busy_engine_that_still_beats_is_not_declared_hung(tiny_model):
    # Heartbeats every half second keep a slow reply alive under a 1 s limit.
    client = EngineClient(hang_timeout=1.0)
    try:
        client.load(LoadOptions(str(tiny_model), n_ctx=2048))
        _, done = run(client, user("Hello"), SamplingParams(temperature=0.0, max_tokens=64))
        assert isinstance(done, Done)
    finally:
        client.close()


def test_worker_sends_heartbeats_while_busy():
    sent: list[object] = []
    got_beat = threading.Event()

    class Pipe:
        def send(self, event):
            sent.append(event)
            got_beat.set()

    worker = Worker(Pipe())
    threading.Thread(target=worker.send_heartbeats, daemon=True).start()
    assert not got_beat.wait(0.8)  # idle: silent
    worker.busy.set()
    assert got_beat.wait(2.0)
    assert isinstance(sent[0], p.Heartbeat)


def test_stop_ends_the_reply_within_a_second_when_the_engine_does_not_answer(tiny_model):
    client = EngineClient(hang_timeout=60)
    try:
        client.load(LoadOptions(str(tiny_model), n_ctx=2048))
        first_pid = client.pid
        partial, final, stopped_at = [], None, 0.0
        for event in client.chat(user("Hello"), ENDLESS):
            if isinstance(event, Token):
                partial.append(event.text)
                if len(partial) == 1:
                    stop_process(first_pid)
                    stopped_at = time.monotonic()
                    client.cancel()
            else:
                final = event
        assert time.monotonic() - stopped_at < 2.0
        assert isinstance(final, Done)
        assert final.stats.stop_reason == StopReason.CANCELLED
        assert final.text.startswith("".join(partial))
        _, done = run(client, user("Hello"))  # the silent engine was replaced
        assert isinstance(done, Done)
        assert client.pid != first_pid
    finally:
        client.close()


def _close_time(client: EngineClient) -> float:
    started = time.monotonic()
    client.close()
    return time.monotonic() - started


def test_close_during_a_stopped_reply_is_quick_and_frees_the_caller(tiny_model):
    client = EngineClient(hang_timeout=60)
    client.load(LoadOptions(str(tiny_model), n_ctx=2048))
    streaming, results = threading.Event(), []

    def chat() -> None:
        for event in client.chat(user("Hello"), ENDLESS):
            if isinstance(event, Token) and not streaming.is_set():
                stop_process(client.pid)
                streaming.set()
            elif isinstance(event, (Done, Error)):
                results.append(event)

    caller = threading.Thread(target=chat, daemon=True)
    caller.start()
    assert streaming.wait(30)
    assert _close_time(client) < 2.0
    caller.join(2.0)
    assert not caller.is_alive()
    assert isinstance(results[0], Error)


def test_close_during_a_stopped_load_is_quick_and_frees_the_caller(tiny_model):
    client = EngineClient(hang_timeout=60)
    loading, errors = threading.Event(), []

    def on_progress(fraction: float) -> None:
        if not loading.is_set() and client.pid is not None:  # 0.0 may come before the process exists
            stop_process(client.pid)
            loading.set()

    def load() -> None:
        try:
            client.load(LoadOptions(str(tiny_model), n_ctx=512), on_progress)
        except EngineError as exc:
            errors.append(exc)

    caller = threading.Thread(target=load, daemon=True)
    caller.start()
    assert loading.wait(30)
    assert _close_time(client) < 2.0
    caller.join(2.0)
    assert not caller.is_alive()
    assert errors


def test_begin_close_frees_a_waiting_load_at_once_with_a_clear_error(tiny_model):
    client = EngineClient(hang_timeout=60)
    loading, errors, returned = threading.Event(), [], []

    def on_progress(fraction: float) -> None:
        if not loading.is_set() and client.pid is not None:
            stop_process(client.pid)  # the load never answers
            loading.set()

    def load() -> None:
        try:
            client.load(LoadOptions(str(tiny_model), n_ctx=512), on_progress)
        except EngineError as exc:
            errors.append(exc)
        returned.append(time.monotonic())

    caller = threading.Thread(target=load, daemon=True)
    caller.start()
    assert loading.wait(30)
    pid = client.pid
    started = time.monotonic()
    client.begin_close()  # does not wait for the engine
    assert time.monotonic() - started < 0.2
    caller.join(1.0)
    assert not caller.is_alive() and returned[0] - started < 0.5
    assert errors[0].message == "the engine has been shut down"
    with pytest.raises(EngineError, match="shut down"):
        client.count(user("Hello"))  # nothing new is taken
    started = time.monotonic()
    client.close(0.2)  # a stopped engine cannot exit by itself: killed after 0.2 s
    assert time.monotonic() - started < 1.0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_close_frees_a_count_waiting_for_the_reload_after_a_crash(tiny_model):
    client = EngineClient(hang_timeout=60)
    client.load(LoadOptions(str(tiny_model), n_ctx=512))
    client.kill()  # a crash: the next request loads the model again first
    deadline = time.monotonic() + 10
    while client.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    errors: list[EngineError] = []

    def count() -> None:
        try:
            client.count(user("Hello"))
        except EngineError as exc:
            errors.append(exc)

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    while client.pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    stop_process(client.pid)  # the reload never finishes; the count waits for it
    time.sleep(0.2)
    assert counter.is_alive()
    started = time.monotonic()
    client.close(0.2)
    counter.join(1.0)
    assert not counter.is_alive()  # it did not wait for the reload to finish
    assert time.monotonic() - started < 2.0
    assert "shut down" in errors[0].message


def test_a_start_that_arrives_after_close_starts_no_engine():
    client = EngineClient()
    client.close()  # the app quit before its engine thread got to the start it was asked for
    client.start()
    assert client.pid is None and not client.alive


def test_close_mid_reply_leaves_the_pipe_to_its_reader_and_a_second_engine_undisturbed(tiny_model, monkeypatch):
    """close() never closes the pipe under its reader: a reader reading a closed pipe's reused descriptor
    once stole another engine's bytes ("the engine stopped unexpectedly" in that one)."""
    crashes: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: crashes.append(hook.exc_value))
    other = EngineClient()
    try:
        other.load(LoadOptions(str(tiny_model), n_ctx=2048))
        for _ in range(3):
            client = EngineClient()
            client.load(LoadOptions(str(tiny_model), n_ctx=2048))
            conn = client._conn
            assert conn is not None
            for event in client.chat(user("Hello"), ENDLESS):
                if isinstance(event, Token):
                    client.close()  # while the worker is still sending tokens
                    break
            tokens, done = run(other, user("Hello"), SamplingParams(temperature=0.0, max_tokens=8))
            assert isinstance(done, Done) and tokens
            deadline = time.monotonic() + 5
            while not conn.closed and time.monotonic() < deadline:
                time.sleep(0.05)
            assert conn.closed  # by its reader, once the worker's end was read
    finally:
        other.close()
    assert crashes == []
