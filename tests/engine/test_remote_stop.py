"""Stop and close reach a remote reply at any moment: before the server's first byte and during a
retry wait, against real sockets on 127.0.0.1 (a server that accepts and never answers)."""

from __future__ import annotations

import threading
import time

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, LoadOptions, OverflowPolicy, StopReason
from app.engine.remote import RemoteEngine
from app.engine.sampling import SamplingParams
from tests.support.servers import SilentServer

HELLO = [ChatMessage("user", "hello")]
PROMPT_BOUND = 1.0  # seconds from Stop (or close) to the chat call's return


def chat_in_thread(engine: RemoteEngine, stop: threading.Event | None = None):
    """Run a chat on a thread; (thread, the events it got)."""
    events: list = []
    thread = threading.Thread(target=lambda: events.extend(engine.chat(HELLO, stop=stop)), daemon=True)
    thread.start()
    return thread, events


def stopped_in(thread: threading.Thread, stop) -> float:
    started = time.monotonic()
    stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    return time.monotonic() - started


def helper_threads_alive() -> bool:
    return any(t.name == "hearth-remote-reply" and t.is_alive() for t in threading.enumerate())


def wait_until(condition, seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_stop_before_the_first_byte_returns_at_once_and_hangs_up(tmp_path):
    with SilentServer() as server, RemoteEngine(server.url) as engine:
        engine.load(LoadOptions(path="quiet"))
        thread, events = chat_in_thread(engine)
        assert server.chat_arrived.wait(5)
        assert stopped_in(thread, engine.cancel) < PROMPT_BOUND
        done = events[-1]
        assert isinstance(done, p.Done) and done.stats.stop_reason == StopReason.CANCELLED and done.text == ""
        assert server.hung_up.wait(2)  # the socket was shut: a real server stops working on it
        assert wait_until(lambda: not helper_threads_alive())


def test_a_stop_event_ends_the_reply_before_the_first_byte():
    stop = threading.Event()
    with SilentServer() as server, RemoteEngine(server.url) as engine:
        engine.load(LoadOptions(path="quiet"))
        thread, events = chat_in_thread(engine, stop)
        assert server.chat_arrived.wait(5)
        assert stopped_in(thread, stop.set) < PROMPT_BOUND
        assert events[-1].stats.stop_reason == StopReason.CANCELLED


def test_close_before_the_first_byte_returns_at_once():
    with SilentServer() as server:
        engine = RemoteEngine(server.url)
        engine.load(LoadOptions(path="quiet"))
        thread, events = chat_in_thread(engine)
        assert server.chat_arrived.wait(5)
        assert stopped_in(thread, engine.close) < PROMPT_BOUND
        assert isinstance(events[-1], p.Done) and events[-1].stats.stop_reason == StopReason.CANCELLED
        assert server.hung_up.wait(2)


def test_stop_during_a_retry_wait_returns_at_once_and_sends_no_more():
    with SilentServer(busy_status=503, retry_after=8) as server, RemoteEngine(server.url) as engine:
        engine.load(LoadOptions(path="quiet"))
        thread, events = chat_in_thread(engine)
        assert server.chat_arrived.wait(5)
        time.sleep(0.2)  # the 503 is answered: the engine now waits 8 s before trying again
        assert stopped_in(thread, engine.cancel) < PROMPT_BOUND
        assert events[-1].stats.stop_reason == StopReason.CANCELLED
        assert wait_until(lambda: not helper_threads_alive())  # the wait itself ended, not just the caller's
        assert server.chats == 1


def test_stop_mid_stream_ends_the_reply_at_once_without_a_polling_thread():
    """The job's own thread reads the stream; Stop shuts its socket: the job ends within 0.2 s with
    the text so far, the thread's blocked read ends, and no other thread was ever started for it."""
    with SilentServer(stall_after=["Hello", " there"]) as server, RemoteEngine(server.url) as engine:
        engine.load(LoadOptions(path="quiet"))
        before = set(threading.enumerate())
        events: list = []
        second_token, ended = threading.Event(), threading.Event()

        def on_event(event) -> None:
            events.append(event)
            if isinstance(event, p.Token) and event.n_tokens == 2:
                second_token.set()
            if isinstance(event, (p.Done, p.Error)):
                ended.set()

        job_id = engine.start_chat(HELLO, SamplingParams(), OverflowPolicy.TRUNCATE_MIDDLE, "default", on_event)
        assert second_token.wait(5)  # the server now says nothing more and keeps the connection open
        started = [t for t in set(threading.enumerate()) - before
                   if t.is_alive() and not t.name.endswith("(_serve)")]  # not the test server's own
        assert [t.name for t in started] == ["hearth-remote-reply"]  # the job's thread, and nothing that polls
        stopped_at = time.monotonic()
        engine.cancel(job_id)
        assert ended.wait(0.2) and time.monotonic() - stopped_at < 0.2
        done = events[-1]
        assert isinstance(done, p.Done) and done.stats.stop_reason == StopReason.CANCELLED
        assert done.text == "Hello there" and {e.id for e in events} == {job_id}
        assert server.hung_up.wait(2)  # the server saw the hang-up
        started[0].join(1.0)
        assert not started[0].is_alive()  # its blocked read ended with the shut socket
        assert len(events) == 3  # nothing after the final event


def test_a_reply_asked_while_another_streams_waits_its_turn_and_a_stop_reaches_each_by_id():
    with SilentServer(stall_after=["first"]) as server, RemoteEngine(server.url) as engine:
        engine.load(LoadOptions(path="quiet"))
        first: list = []
        second: list = []
        first_id = engine.start_chat(HELLO, SamplingParams(), OverflowPolicy.TRUNCATE_MIDDLE, "default", first.append)
        assert wait_until(lambda: len(first) == 1)
        second_id = engine.start_chat(HELLO, SamplingParams(), OverflowPolicy.TRUNCATE_MIDDLE, "default",
                                      second.append)
        time.sleep(0.2)
        assert server.chats == 1 and second == []  # replies take turns, as in the local engine
        engine.cancel(second_id)  # the queued one ends at once and never starts
        assert wait_until(lambda: len(second) == 1) and second[0].stats.stop_reason == StopReason.CANCELLED
        assert len(first) == 1  # the first goes on
        engine.cancel(first_id)
        assert wait_until(lambda: isinstance(first[-1], p.Done)) and first[-1].text == "first"
        time.sleep(0.2)
        assert server.chats == 1
