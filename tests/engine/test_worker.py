"""The engine process's threads: Cancel is never held up by a count, and counts go on while a reply streams."""

from __future__ import annotations

import threading

from app.engine import protocol as p
from app.engine.protocol import OverflowPolicy
from app.engine.worker import Worker


class ScriptedPipe:
    """The worker's end of the pipe: hands out the given requests, records what is sent."""

    def __init__(self, requests: list) -> None:
        self.requests = list(requests)
        self.sent: list = []
        self.sent_event = threading.Condition()
        self.more = threading.Event()

    def recv(self):
        if self.requests:
            return self.requests.pop(0)
        self.more.wait(5)
        raise EOFError

    def send(self, event) -> None:
        with self.sent_event:
            self.sent.append(event)
            self.sent_event.notify_all()


class SlowCountModel:
    """Counting waits until the test lets it go; Cancel is recorded."""

    n_ctx = 4096

    def __init__(self) -> None:
        self.counting = threading.Event()
        self.release = threading.Event()
        self.cancelled = threading.Event()
        self.template = type("T", (), {"origin": "gguf"})()

    def count_tokens(self, messages, thinking="default") -> int:
        self.counting.set()
        self.release.wait(5)
        return 10 * len(messages)

    def count(self, messages, thinking="default") -> int:  # the main thread's path must not be used here
        raise AssertionError("a Count request must use count_tokens, not the main thread's memo")

    def cancel(self) -> None:
        self.cancelled.set()


def test_cancel_reaches_the_model_while_a_long_count_is_still_running():
    model = SlowCountModel()
    count = p.Count(5, (p.ChatMessage("user", "hi"),), "draft", OverflowPolicy.STOP, 100)
    pipe = ScriptedPipe([count, p.Cancel(0)])
    worker = Worker(pipe)  # type: ignore[arg-type]
    worker.model = model
    counter = threading.Thread(target=worker.answer_counts, daemon=True)
    counter.start()
    reader = threading.Thread(target=worker.read_requests, daemon=True)
    reader.start()
    assert model.counting.wait(5)
    assert model.cancelled.wait(5), "Cancel waited for the count"
    model.release.set()
    with pipe.sent_event:
        assert pipe.sent_event.wait_for(lambda: any(isinstance(e, p.Counted) for e in pipe.sent), 5)
    [counted] = [e for e in pipe.sent if isinstance(e, p.Counted)]
    assert counted.id == 5 and counted.result.prompt_tokens == 20  # the draft counts as a user message
    pipe.more.set()
    reader.join(5)
    counter.join(5)
    assert not counter.is_alive(), "the count thread stops when the pipe closes"


def test_a_count_without_a_model_is_answered_with_an_error():
    pipe = ScriptedPipe([])
    worker = Worker(pipe)  # type: ignore[arg-type]
    worker.answer_count(p.Count(3, (), "", OverflowPolicy.STOP, 10))
    [error] = pipe.sent
    assert isinstance(error, p.Error) and error.id == 3 and error.kind == p.ErrorKind.NO_MODEL
