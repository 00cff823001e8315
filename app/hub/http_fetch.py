"""A ranged GET whose body is read straight into reusable buffers.

httpx (what huggingface_hub uses) hands the body over in fresh 64 KiB byte
strings parsed in Python; at loopback or fast-network speeds that Python work
starves the threads that write and hash, and a download runs at about half of
curl's speed. http.client's `readinto` fills a buffer we own with the GIL
released, so reading, hashing and writing overlap. Redirects are followed by
hand so that the Hub token is never sent to another host (the Hub redirects
model files to its CDN), and the usual proxy variables are honoured.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 30.0


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    try:  # the system's trust store, as huggingface_hub uses
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except Exception:  # noqa: BLE001
        try:
            import certifi

            return ssl.create_default_context(cafile=certifi.where())
        except Exception:  # noqa: BLE001
            return ssl.create_default_context()


def _connect(scheme: str, host: str, port: int | None) -> tuple[http.client.HTTPConnection, bool]:
    """A connection to host, through the environment's proxy if one applies; (conn, absolute_url)."""
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if not p.hostname:
            raise http.client.InvalidURL(f"the {scheme} proxy setting {proxy!r} names no host")
        if scheme == "https":
            conn = http.client.HTTPSConnection(p.hostname, p.port or 8080, timeout=TIMEOUT_SECONDS,
                                               context=_tls_context())
            conn.set_tunnel(host, port or 443)
            return conn, False
        return http.client.HTTPConnection(p.hostname, p.port or 8080, timeout=TIMEOUT_SECONDS), True
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=TIMEOUT_SECONDS, context=_tls_context()), False
    return http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS), False


@dataclass
class Fetched:
    status: int
    headers: http.client.HTTPMessage
    response: http.client.HTTPResponse
    connection: http.client.HTTPConnection
    first_read: bool = True

    def readinto(self, buffer: memoryview) -> int:
        """Read what one socket read brings (not a whole buffer): progress and pause stay prompt."""
        response = self.response
        if response.chunked or response.length is None:
            return response.readinto(buffer)
        if response.length == 0:
            return 0
        buffer = buffer[: response.length]
        if self.first_read:
            # Body bytes that came with the headers sit in the reader's buffer. Asked for more than
            # its size, readinto1 copies them and then waits on the socket for more, so a server that
            # goes quiet would hold them back: the first read takes only what fits that buffer.
            self.first_read = False
            buffer = buffer[: io.DEFAULT_BUFFER_SIZE]
        n = response.fp.readinto1(buffer)
        if not n:
            raise http.client.IncompleteRead(b"", response.length)
        response.length -= n
        return n

    def interrupt(self) -> None:
        """From another thread: end a read that may be waiting on a silent server (pause, quit)."""
        interrupt(self.connection)

    def close(self) -> None:
        self.response.close()
        self.connection.close()

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def interrupt(connection: http.client.HTTPConnection) -> None:
    """From another thread: end whatever the connection waits for (its headers or its body)."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def fetch(url: str, headers: dict[str, str],
          on_connection: Callable[[http.client.HTTPConnection], None] | None = None) -> Fetched:
    """GET url (following redirects); the caller reads the body with readinto and closes it.

    `on_connection(conn)` is told each connection before the request, so another thread can
    `interrupt` a server that never answers with headers."""
    origin = urlsplit(url).hostname
    headers = dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # A redirect elsewhere (ftp:, a Location without a host) would be spoken to in HTTP or fail in
            # http.client with an AttributeError: say what was wrong instead.
            raise http.client.InvalidURL(f"cannot download {url!r}: not an http or https address with a host")
        if parts.hostname != origin:
            headers.pop("Authorization", None)  # the token is for the Hub only
        conn, absolute = _connect(parts.scheme, parts.hostname, parts.port)
        if on_connection is not None:
            on_connection(conn)
        target = url if absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
        except BaseException:
            conn.close()
            raise
        if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
            url = urljoin(url, response.getheader("Location"))
            response.close()
            conn.close()
            continue
        return Fetched(response.status, response.headers, response, conn)
    raise http.client.HTTPException(f"too many redirects for {url}")
