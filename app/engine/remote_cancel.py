"""Stoppable HTTP for remote engines (no Qt): Stop and Quit must not wait for a silent server.

httpx blocks in a socket read until the server answers or the read timeout (minutes) passes, and
closing a client from another thread does not wake that read. So every connection a request opens
is recorded (httpx's "trace" request extension hands over the socket when it connects), and Stop and
close shut the socket down: the job thread's blocking read ends at once and the server sees the
hang-up. Nothing polls: the job's own thread reads the stream (remote_jobs.py).
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any


class RequestCancelled(Exception):
    """Raised in a job's thread when its request was stopped (nobody is waiting for it any more)."""


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
              cancelled: Callable[[], bool] = lambda: False) -> Callable[[str, dict[str, Any]], None]:
        """A trace callback (pass as `extensions={"trace": ...}`) recording each new connection's socket,
        also into `into`; a connection made after the request was stopped is shut down at once."""

        def on_event(name: str, info: dict[str, Any]) -> None:
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
