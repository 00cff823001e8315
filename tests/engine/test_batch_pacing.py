"""How often a batched reply's text is sent: its stream's own interval alone, SHARED_FLUSH_SECONDS beside others.

Every Token message costs CPU on the cores the batch decodes on (the engine's pickle and pipe write, the
server's hand-offs and SSE event, the client's parse), so replies sharing the batch send theirs less often.
"""

from __future__ import annotations

from types import SimpleNamespace

from app.engine import protocol as p
from app.engine.batch_scheduler import SHARED_FLUSH_SECONDS, BatchScheduler
from app.engine.worker import FLUSH_SECONDS, ReplyStream


def slot_with_stream(sent: list[p.Event], request_id: int) -> SimpleNamespace:
    stream = ReplyStream(request_id, None, sent.append)
    return SimpleNamespace(reply=SimpleNamespace(stream=stream))


def intervals(scheduler: SimpleNamespace) -> list[float]:
    return [slot.reply.stream.batcher.interval for slot in scheduler.slots if slot.reply is not None]


def test_replies_beside_others_flush_less_often_and_alone_as_before():
    sent: list[p.Event] = []
    scheduler = SimpleNamespace(slots=[slot_with_stream(sent, 1), SimpleNamespace(reply=None)], solo_flush=None)
    BatchScheduler._pace(scheduler)
    assert intervals(scheduler) == [FLUSH_SECONDS]
    scheduler.slots[1] = slot_with_stream(sent, 2)  # a second reply joins
    BatchScheduler._pace(scheduler)
    assert intervals(scheduler) == [SHARED_FLUSH_SECONDS, SHARED_FLUSH_SECONDS]
    scheduler.slots[0].reply = None  # the first one ends
    BatchScheduler._pace(scheduler)
    assert intervals(scheduler) == [FLUSH_SECONDS]


def test_the_first_text_of_a_reply_beside_others_is_sent_at_once():
    sent: list[p.Event] = []
    scheduler = SimpleNamespace(slots=[slot_with_stream(sent, 1), slot_with_stream(sent, 2)], solo_flush=None)
    BatchScheduler._pace(scheduler)
    first, second = (slot.reply.stream for slot in scheduler.slots)
    first.on_text("Hello", 1)
    second.on_text("Hi", 1)
    second.on_text(" there", 2)  # within the interval: held until the next flush
    assert [(e.id, e.text, e.n_tokens) for e in sent if isinstance(e, p.Token)] == [(1, "Hello", 1), (2, "Hi", 1)]
    second.finish()
    assert [e.text for e in sent if isinstance(e, p.Token) and e.id == 2] == ["Hi", " there"]
