"""The server's model slot: requests take turns in order; a client that leaves is cancelled."""

import asyncio
import threading

import pytest

from app.engine import protocol as p
from app.engine.protocol import ErrorKind
from app.server.slot import ModelSlot, SlotState


def _reply(words: list[str]):
    def start(stop):
        for word in words:
            yield p.Token(0, word, 1)
        yield p.Done(0, p.Stats(), "".join(words))
    return start


async def _never() -> None:
    await asyncio.Event().wait()


async def _collect(slot: ModelSlot, start, disconnected=_never) -> list:
    return [event async for event in slot.generate(start, disconnected)]


def test_requests_are_answered_one_after_another_in_order():
    async def scenario():
        slot = ModelSlot()
        first, second = await asyncio.gather(_collect(slot, _reply(["a", "b"])), _collect(slot, _reply(["c"])))
        for _ in range(500):  # the turn ends when the engine's thread hands it back (after the last event)
            if not slot.busy:
                break
            await asyncio.sleep(0.01)
        return slot, first, second

    slot, first, second = asyncio.run(scenario())
    assert [e.text for e in first if isinstance(e, p.Token)] == ["a", "b"]
    assert isinstance(second[-1], p.Done) and second[-1].text == "c"
    assert slot.served == 2 and slot.state() == SlotState(busy=False, waiting=0)


def test_an_engine_failure_becomes_an_error_event_and_frees_the_slot():
    def broken(stop):
        raise RuntimeError("pipe closed")
        yield  # pragma: no cover

    async def scenario():
        slot = ModelSlot()
        events = await _collect(slot, broken)
        after = await _collect(slot, _reply(["ok"]))
        return events, after

    events, after = asyncio.run(scenario())
    assert isinstance(events[-1], p.Error) and events[-1].kind is ErrorKind.INTERNAL
    assert "pipe closed" in events[-1].message
    assert isinstance(after[-1], p.Done)


def test_a_client_that_disconnects_mid_reply_cancels_the_generation():
    stops: list[threading.Event] = []

    def endless(stop):
        stops.append(stop)
        while not stop.is_set():
            yield p.Token(0, "x", 1)
            stop.wait(0.005)
        yield p.Done(0, p.Stats(stop_reason=p.StopReason.CANCELLED), "")

    async def scenario():
        slot = ModelSlot()
        gone = asyncio.Event()

        async def disconnected() -> None:
            await gone.wait()

        seen = 0
        async for event in slot.generate(endless, disconnected):
            seen += 1
            if seen == 3:
                gone.set()
            if isinstance(event, p.Done):
                break
        return slot

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert stops and stops[0].is_set()  # this request's own stop: nobody else's reply


def test_admission_is_bounded_and_a_released_place_is_free_again():
    from app.server.slot import QueueFull, Ticket

    slot = ModelSlot(max_waiting=1)
    first = slot.admit()  # idle: one more than max_waiting may be admitted, the first is answered at once
    second = slot.admit()
    assert isinstance(first, Ticket) and slot.waiting == 2
    with pytest.raises(QueueFull):
        slot.admit()
    second.release()
    second.release()  # twice is harmless
    assert slot.waiting == 1
    slot.admit()
    assert slot.waiting == 2


def test_as_many_requests_run_at_once_as_the_engine_decodes_and_the_rest_wait_in_order():
    started: list[str] = []
    release = threading.Event()

    def held(name: str):
        def start(stop):
            started.append(name)
            release.wait(5)
            yield p.Done(0, p.Stats(), name)
        return start

    async def scenario():
        slot = ModelSlot(capacity=2)
        tasks = [asyncio.ensure_future(_collect(slot, held(name))) for name in "abcd"]
        for _ in range(500):
            if len(started) == 2:
                break
            await asyncio.sleep(0.01)
        running = (list(started), slot.state())
        release.set()
        ends = await asyncio.gather(*tasks)
        for _ in range(500):  # a turn ends when the engine's thread hands it back (after the last event)
            if slot.served == 4:
                break
            await asyncio.sleep(0.01)
        return running, ends, slot

    (running, state), ends, slot = asyncio.run(asyncio.wait_for(scenario(), 10))
    # a and b start first (each on its own thread: either may come first), then c and d
    assert sorted(running) == ["a", "b"] and state == SlotState(busy=True, waiting=2, active=2)
    assert [e[-1].text for e in ends] == ["a", "b", "c", "d"] and sorted(started[2:]) == ["c", "d"]
    assert slot.served == 4


def test_admission_leaves_room_for_each_free_sequence():
    from app.server.slot import QueueFull

    slot = ModelSlot(max_waiting=1, capacity=3)
    tickets = [slot.admit() for _ in range(4)]  # 3 answered at once, 1 waits
    with pytest.raises(QueueFull):
        slot.admit()
    tickets[0].release()
    slot.admit()
