"""The worker sends streamed text in batches: the first piece at once, then one message per interval."""

from __future__ import annotations

from app.engine import protocol as p
from app.engine.worker import FLUSH_SECONDS, TokenBatcher


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _batcher() -> tuple[TokenBatcher, list[p.Token], FakeClock]:
    sent: list[p.Token] = []
    clock = FakeClock()
    return TokenBatcher(7, sent.append, interval=0.04, clock=clock), sent, clock


def test_first_piece_is_sent_at_once() -> None:
    batcher, sent, _ = _batcher()
    batcher.add("Hel", 1)
    assert sent == [p.Token(7, "Hel", 1)]


def test_pieces_within_an_interval_travel_together() -> None:
    batcher, sent, clock = _batcher()
    batcher.add("A", 1)
    for n in range(2, 6):
        clock.now += 0.009  # 4 tokens in 36 ms: under one interval
        batcher.add(str(n), n)
    assert len(sent) == 1
    clock.now += 0.009
    batcher.add("6", 6)
    assert sent[1] == p.Token(7, "23456", 6)


def test_flush_sends_the_rest_once() -> None:
    batcher, sent, clock = _batcher()
    batcher.add("a", 1)
    clock.now += 0.001
    batcher.add("b", 2)
    batcher.add("c", 3)
    batcher.flush()
    batcher.flush()
    assert sent == [p.Token(7, "a", 1), p.Token(7, "bc", 3)]
    assert "".join(t.text for t in sent) == "abc"


def test_hundred_tokens_a_second_become_at_most_the_views_repaint_rate() -> None:
    batcher, sent, clock = _batcher()
    for n in range(1, 101):  # one second of decoding at 100 tokens/s
        batcher.add("x", n)
        clock.now += 0.01
    batcher.flush()
    assert len(sent) <= 1 + 1 / 0.04 + 1
    assert "".join(t.text for t in sent) == "x" * 100
    assert sent[-1].n_tokens == 100


def test_default_interval_matches_the_chat_view() -> None:
    from app.ui.chat.chat_session import FLUSH_MS

    assert FLUSH_SECONDS * 1000 == FLUSH_MS
