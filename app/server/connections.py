"""uvicorn's HTTP/1.1 protocol with two guards of our own: a cap on open connections and a deadline
for each request's headers, so slow or idle sockets cannot use up the process's files (slowloris).

uvicorn's own `limit_concurrency` is not used: it answers 503 to requests on connections already
open once the count reaches the limit, and still lets idle sockets pile up."""

from __future__ import annotations

import asyncio
import functools
import socket
from dataclasses import replace

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.server.limits import ServerLimits

MAX_HEADER_BYTES = 16 * 1024  # request line and headers together; h11 refuses more with 400


def _plain_answer(status: str, message: str, extra: str = "") -> bytes:
    """A whole HTTP response written straight to the socket (no request was parsed to answer)."""
    body = message.encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n{extra}connection: close\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


_BUSY = _plain_answer("503 Service Unavailable", "the server has too many connections open now", "retry-after: 1\r\n")
_SLOW = _plain_answer("408 Request Timeout", "the request's headers did not arrive in time")


class GuardedProtocol(H11Protocol):
    """One connection. `waiting_since` is set while it waits for a request's headers: such a
    connection is idle (or slow) and the first to be closed when the server is full."""

    def __init__(self, *args, limits: ServerLimits, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.waiting_since: float | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._partial = False  # some bytes of the awaited request arrived

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.waiting_since is not None:
            self._partial = True
        super().data_received(data)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request's headers are in: its body has a deadline of its own
            self._stop_header_clock()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._await_headers()  # the next request on this connection; a pipelined one stops it at once
        super().on_response_complete()

    def _await_headers(self) -> None:
        self._stop_header_clock()
        self.waiting_since = self.loop.time()
        self._partial = False
        self._header_timer = self.loop.call_later(self.limits.header_timeout_s, self._headers_too_slow)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self.waiting_since = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            if self._partial:
                self.transport.write(_SLOW)
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a request, or refuse this one."""
        idle = [c for c in self.connections
                if c is not self and isinstance(c, GuardedProtocol) and c.waiting_since is not None
                and not c.transport.is_closing()]
        if idle:
            oldest = min(idle, key=lambda c: c.waiting_since or 0.0)
            oldest._stop_header_clock()
            oldest.transport.close()
        else:
            self._stop_header_clock()
            self.transport.write(_BUSY)
            self.transport.close()
        # A closed transport still counts until its connection_lost runs on the next loop pass.
        self.connections.discard(oldest if idle else self)


def fitted(limits: ServerLimits) -> ServerLimits:
    """`limits` with the connection cap lowered to a quarter of the files this process may open."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to fit
        return limits
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft // 4 >= limits.max_connections:
        return limits
    return replace(limits, max_connections=max(8, soft // 4))


def uvicorn_config(app, limits: ServerLimits, **options) -> Config:
    """A uvicorn Config serving `app` with these limits (`options`: host, port, log_level, …)."""
    limits = fitted(limits)
    return Config(app, http=functools.partial(GuardedProtocol, limits=limits),  # type: ignore[arg-type]
                  timeout_keep_alive=limits.keep_alive_s, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                  backlog=min(limits.max_connections, socket.SOMAXCONN), **options)
