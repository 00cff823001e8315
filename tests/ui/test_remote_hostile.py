"""In the app, a hostile remote server still ends every load and reply with a signal."""

from __future__ import annotations

import json

from app.engine import ChatMessage, LoadOptions, OverflowPolicy, SamplingParams
from app.engine.protocol import ErrorKind
from app.engine.router import remote_path
from app.ui.services import EngineService
from tests.support.hostile_server import HostileServer, sse


def test_a_nested_model_list_ends_the_load_with_load_failed(qtbot):
    service = EngineService()
    try:
        with HostileServer({"/v1/models": (200, b"[" * 100_000)}) as server:
            with qtbot.waitSignal(service.load_failed, timeout=10000) as failed:
                service.load(LoadOptions(remote_path(server.url, "evil")))
        assert failed.args[1:] == [f"{server.url}/v1/models did not answer JSON: is this an OpenAI-compatible server?"]
    finally:
        service.shutdown()


def test_a_malformed_reply_ends_with_failed_and_bad_props_still_load(qtbot):
    service = EngineService()
    answers = {"/props": (200, json.dumps({"default_generation_settings": {"n_ctx": [1]}}).encode()),
               "/v1/chat/completions": (200, sse({"choices": [{"delta": {"content": 42}}]}))}
    try:
        with HostileServer(answers) as server:
            with qtbot.waitSignal(service.loaded, timeout=10000) as loaded:
                service.load(LoadOptions(remote_path(server.url, "evil")))
            assert loaded.args[1].n_ctx == 0
            with qtbot.waitSignal(service.failed, timeout=10000) as failed:
                service.chat([ChatMessage("user", "Hi")], SamplingParams(), OverflowPolicy.TRUNCATE_MIDDLE)
        assert failed.args[1:] == [ErrorKind.BAD_REQUEST,
                                   f"{server.url} sent a reply Hearth cannot read: a delta's 'content' is not text"]
    finally:
        service.shutdown()
