from __future__ import annotations

import httpx
import pytest

from app.server.background import BackgroundServer
from tests.server.test_safety import NoEngine
from tests.support.servers import free_port


def test_background_server_starts_reports_and_stops():
    server = BackgroundServer(NoEngine(), "m", port=free_port())
    server.start()
    try:
        assert server.running and server.waiting == 0
        assert httpx.get(server.url + "/models").json()["data"][0]["id"] == "m"
        clash = BackgroundServer(NoEngine(), "m", port=server.port)
        with pytest.raises(OSError, match="port"):
            clash.start()
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/models")


def test_background_server_needs_a_key_beyond_this_computer():
    with pytest.raises(ValueError, match="api-key"):
        BackgroundServer(NoEngine(), "m", host="0.0.0.0")
