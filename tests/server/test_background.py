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


def test_stopping_during_a_streamed_reply_is_quick_and_ends_the_reply(smollm2):
    import threading
    import time

    from app.engine import EngineClient, LoadOptions

    engine = EngineClient()
    try:
        engine.load(LoadOptions(str(smollm2), n_ctx=4096))
        server = BackgroundServer(engine, "smol", port=free_port())
        server.start()
        streaming, ended = threading.Event(), threading.Event()
        body = {"model": "smol", "stream": True, "max_tokens": 3000, "temperature": 0,
                "messages": [{"role": "user", "content": "Write a very long story about the sea."}]}

        def stream() -> None:
            try:
                with httpx.stream("POST", f"{server.url}/chat/completions", json=body, timeout=30) as response:
                    for line in response.iter_lines():
                        if line.startswith("data:"):
                            streaming.set()
            except httpx.HTTPError:
                pass  # the server went away mid-stream
            ended.set()

        threading.Thread(target=stream, daemon=True).start()
        assert streaming.wait(30)
        started = time.monotonic()
        server.stop()  # the window's close does this before the quit sequence
        assert time.monotonic() - started < 1.5
        assert ended.wait(2)
    finally:
        engine.close()
