"""One loaded model behind the server: requests take turns, in the order they came, as many at once as
the engine decodes together (its n_parallel: batch_scheduler.py; 1 answers one at a time).

The engine client is blocking, so each generation runs on a thread that hands its
events to the event loop. A request whose client goes away is dropped from the
queue, or its generation stopped (within one token) through its own stop event —
never another caller's reply on the same engine (the GUI's, in the app).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from app.engine import protocol as p
from app.engine.protocol import ErrorKind

UNFINISHED = "the engine ended the reply without finishing it"


class ClientGone(Exception):
    """The client disconnected while its request waited for its turn."""


class QueueFull(Exception):
    """As many requests wait as the server holds: this one is refused (503 with Retry-After)."""


class Ticket:
    """A place in the queue, held from admission (before the body is read, so the bodies held in
    memory are bounded too) until the request's turn starts or it gives up. Releasing twice is fine."""

    def __init__(self, slot: ModelSlot) -> None:
        self._slot = slot
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._slot.waiting -= 1


@dataclass(frozen=True)
class SlotState:
    busy: bool  # a request is being answered
    waiting: int  # requests queued behind it
    active: int = 0  # requests being answered now (up to the engine's n_parallel)


class ModelSlot:
    def __init__(self, max_waiting: int | None = None, capacity: int | Callable[[], int] = 1) -> None:
        self.max_waiting = max_waiting  # None: no bound
        # how many replies run at once: a number, or a function asked at each turn (the engine's model may change)
        self._capacity = capacity if callable(capacity) else (lambda: capacity)
        self._turns: deque[asyncio.Future[None]] = deque()  # first come, first served
        self.active = 0  # requests being answered
        self.waiting = 0  # requests admitted and not yet answered (reading their body, or queued)
        self.served = 0

    @property
    def busy(self) -> bool:
        return self.active > 0

    @property
    def capacity(self) -> int:
        return max(1, self._capacity())

    def admit(self) -> Ticket:
        """A place in the queue, or QueueFull when `max_waiting` requests already wait behind a busy
        slot (one more may wait for each reply the engine could still take on: it is answered at once)."""
        if self.max_waiting is not None and self.waiting >= self.max_waiting + max(self.capacity - self.active, 0):
            raise QueueFull()
        self.waiting += 1
        return Ticket(self)

    def state(self) -> SlotState:
        """Whether a request is being answered and how many wait (read from any thread)."""
        return SlotState(self.busy, self.waiting, self.active)

    async def generate(
        self,
        start: Callable[[threading.Event], Iterator[p.Token | p.Done | p.Error]],
        disconnected: Callable[[], Awaitable[None]],
        ticket: Ticket | None = None,
    ) -> AsyncIterator[p.Token | p.Done | p.Error]:
        """The events of one generation, after the requests queued before it.

        `start(stop)` begins the generation; setting `stop` must end it (a Done, cancelled).
        `ticket` is the place `admit()` gave (without one, a place is taken now: QueueFull)."""
        ticket = ticket or self.admit()
        gone = asyncio.ensure_future(disconnected())
        try:
            await self._take_turn(gone, ticket)
            async for event in self._run(start, gone):
                yield event
        finally:
            ticket.release()
            gone.cancel()

    def _grant(self) -> None:
        """Start the turns at the head of the queue while the engine has room for them."""
        while self._turns and self.active < self.capacity:
            turn = self._turns.popleft()
            if turn.done():  # its client left while it waited
                continue
            self.active += 1
            turn.set_result(None)

    def _end_turn(self) -> None:
        self.active -= 1
        self._grant()

    async def _take_turn(self, gone: asyncio.Future, ticket: Ticket) -> None:
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        self._grant()
        try:
            await asyncio.wait({turn, gone}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._abandon(turn)
            raise
        finally:
            ticket.release()
        if gone.done():
            self._abandon(turn)
            raise ClientGone()

    def _abandon(self, turn: asyncio.Future) -> None:
        if turn.done() and not turn.cancelled():
            self._end_turn()
        else:
            turn.cancel()

    async def _run(self, start, gone: asyncio.Future) -> AsyncIterator[p.Token | p.Done | p.Error]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def post(item) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, item)
            except RuntimeError:  # the loop is closed: the server is shutting down
                pass

        def release() -> None:
            self.served += 1
            self._end_turn()

        def pump() -> None:
            # The turn ends when the engine has finished, not when the client stops reading.
            ended = False
            try:
                for event in start(stop):
                    post(event)
                    ended = isinstance(event, (p.Done, p.Error))
                if not ended:  # the reader waits for a last word: without one it would wait for ever
                    post(p.Error(0, ErrorKind.INTERNAL, UNFINISHED))
            except Exception as exc:  # noqa: BLE001 - the client gets it as an error reply
                post(p.Error(0, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}"))
            finally:
                try:
                    loop.call_soon_threadsafe(release)
                except RuntimeError:
                    pass

        def cancel(_=None) -> None:
            stop.set()

        gone.add_done_callback(lambda f: None if f.cancelled() else cancel())
        threading.Thread(target=pump, name="serve-generation", daemon=True).start()
        finished = False
        try:
            while True:
                event = await events.get()
                yield event
                if isinstance(event, (p.Done, p.Error)):
                    finished = True
                    return
        finally:
            if not finished:
                cancel()
