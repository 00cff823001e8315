"""One loaded model behind the server: requests take turns, in the order they came.

The engine client is blocking, so each generation runs on a thread that hands its
events to the event loop. A request whose client goes away is dropped from the
queue, or its generation stopped (within one token) through its own stop event —
never another caller's reply on the same engine (the GUI's, in the app).
"""

from __future__ import annotations

import asyncio
import threading
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


class ModelSlot:
    def __init__(self, max_waiting: int | None = None) -> None:
        self._lock = asyncio.Lock()  # asyncio locks wake waiters first come, first served
        self.max_waiting = max_waiting  # None: no bound
        self.waiting = 0  # requests admitted and not yet answered (reading their body, or queued)
        self.busy = False
        self.served = 0

    def admit(self) -> Ticket:
        """A place in the queue, or QueueFull when `max_waiting` requests already wait behind a busy
        slot (one more may wait while it is idle: it will be answered at once)."""
        if self.max_waiting is not None and self.waiting >= self.max_waiting + (0 if self.busy else 1):
            raise QueueFull()
        self.waiting += 1
        return Ticket(self)

    def state(self) -> SlotState:
        """Whether a request is being answered and how many wait (read from any thread)."""
        return SlotState(self.busy, self.waiting)

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

    async def _take_turn(self, gone: asyncio.Future, ticket: Ticket) -> None:
        acquire = asyncio.ensure_future(self._lock.acquire())
        try:
            await asyncio.wait({acquire, gone}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._abandon(acquire)
            raise
        finally:
            ticket.release()
        if gone.done():
            self._abandon(acquire)
            raise ClientGone()

    def _abandon(self, acquire: asyncio.Future) -> None:
        if acquire.done() and not acquire.cancelled():
            self._lock.release()
        else:
            acquire.cancel()

    async def _run(self, start, gone: asyncio.Future) -> AsyncIterator[p.Token | p.Done | p.Error]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        self.busy = True

        def post(item) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, item)
            except RuntimeError:  # the loop is closed: the server is shutting down
                pass

        def release() -> None:
            self.busy = False
            self.served += 1
            self._lock.release()

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
