"""The hand-followed redirects of http_fetch: an address it cannot speak to is refused in plain words."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator

import pytest

from app.hub.http_fetch import fetch


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    """A local server whose every answer is a redirect to the Location the test puts in the list."""
    location: list[str] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/model.gguf", location
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("target", ["https:///no-host.gguf", "http://:80/no-host.gguf", "ftp://127.0.0.1:1/model.gguf"])
def test_a_redirect_to_an_address_without_http_or_a_host_is_refused_by_name(redirecting, target):
    url, location = redirecting
    location.append(target)
    with pytest.raises(http.client.InvalidURL, match="not an http or https address with a host") as caught:
        fetch(url, {})
    assert target in str(caught.value)
