from __future__ import annotations

import pytest

from app.engine import EngineClient, LoadOptions
from app.engine import protocol as p
from tests.support.servers import uvicorn_thread


class RecordingEngine:
    """The real engine, remembering how each generation ended (to see a cancel arrive)."""

    def __init__(self, engine: EngineClient) -> None:
        self.engine = engine
        self.info = engine.info
        self.endings: list[p.Done | p.Error] = []

    def _record(self, events):
        for event in events:
            if isinstance(event, (p.Done, p.Error)):
                self.endings.append(event)
            yield event

    def chat(self, *args, **kwargs):
        return self._record(self.engine.chat(*args, **kwargs))

    def complete(self, *args, **kwargs):
        return self._record(self.engine.complete(*args, **kwargs))

    def cancel(self) -> None:
        self.engine.cancel()


@pytest.fixture(scope="module")
def served(smollm2):
    """Hearth's server over the real SmolLM2, on a free loopback port: (base URL, recording engine, app)."""
    from app.server.app import create_app
    from app.server.limits import ServerLimits

    with EngineClient() as engine:
        engine.load(LoadOptions(path=str(smollm2), n_ctx=2048, n_gpu_layers=0))
        recording = RecordingEngine(engine)
        app = create_app(recording, "smollm2", limits=ServerLimits(max_body_bytes=64 * 1024))
        with uvicorn_thread(app) as url:
            yield url, recording, app
