"""Stoppable HTTP for remote engines (no Qt): Stop and Quit must not wait for a silent server.

httpx blocks in a socket read until the server answers or the read timeout (minutes) passes, and
closing a client from another thread does not wake that read. So a remote reply runs its blocking
I/O on a helper thread that posts what it reads to a queue; the caller's thread only waits on that
queue in short slices and leaves as soon as the reply is stopped. Every connection a request opens
is recorded (httpx's "trace" request extension hands over the socket when it connects), so Stop and
close can shut the socket down: the helper's read ends at once and the server sees the hang-up.
"""

from __future__ import annotations

import queue
import socket
import threading
import weakref
from collections.abc import Callable, Iterator

POLL_SECONDS = 0.05  # how often a waiting caller looks at its stop flags
END = object()  # posted by the helper thread after the last item


class RequestCancelled(Exception):
    """Raised inside the helper thread when the reply was stopped (nobody is waiting for it any more)."""


def shut(sock: socket.socket) -> None:
    """Shut a socket down for both directions: a read blocked on it in another thread returns at once."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed, or never connected


class Connections:
    """The sockets opened by requests sent with `trace(...)`, to be shut down on Stop or close."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def trace(self, into: list[socket.socket] | None = None,
              cancelled: Callable[[], bool] = lambda: False) -> Callable[[str, dict], None]:
        """A trace callback (pass as `extensions={"trace": ...}`) recording each new connection's socket,
        also into `into`; a connection made after the request was stopped is shut down at once."""

        def on_event(name: str, info: dict) -> None:
            if not name.endswith("connect_tcp.complete"):
                return
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if not isinstance(sock, socket.socket):
                return
            with self._lock:
                self._all.add(sock)
            if into is not None:
                into.append(sock)
            if cancelled():
                shut(sock)

        return on_event

    def shut_all(self) -> None:
        with self._lock:
            sockets = list(self._all)
        for sock in sockets:
            shut(sock)


def wait_unless(seconds: float, cancelled: Callable[[], bool]) -> None:
    """Sleep up to `seconds`, in short slices, returning early once `cancelled()` is true."""
    stop = threading.Event()
    remaining = seconds
    while remaining > 0 and not cancelled():
        step = min(POLL_SECONDS, remaining)
        stop.wait(step)
        remaining -= step


def start_helper(work: Callable[[Callable[[object], None]], None], name: str) -> queue.Queue:
    """Run `work(post)` on a daemon thread; what it posts, then END (or the exception it raised), lands in the queue."""
    out: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            work(out.put)
        except BaseException as exc:  # handed to the caller, who decides whether it still matters
            out.put(exc)
        else:
            out.put(END)

    threading.Thread(target=run, name=name, daemon=True).start()
    return out


def items(out: queue.Queue, cancelled: Callable[[], bool]) -> Iterator[object]:
    """What the helper posts, until END; an exception it raised is raised here. Returns (without
    waiting for the helper) as soon as `cancelled()` is true — within POLL_SECONDS."""
    while not cancelled():
        try:
            item = out.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue
        if item is END:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
