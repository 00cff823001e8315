"""`hearth serve --parallel`: several clients answered together by one engine; more than it decodes wait their turn."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from app.engine import EngineClient, LoadOptions
from app.engine.batch_params import serve_options
from app.server.app import create_app
from app.server.limits import ServerLimits
from tests.support.servers import uvicorn_thread


def _stream(url: str, question: str, max_tokens: int = 6) -> tuple[int, str]:
    body = {"messages": [{"role": "user", "content": question}], "temperature": 0, "max_tokens": max_tokens,
            "stream": True}
    text = []
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=120) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.text
        for line in response.iter_lines():
            if line.startswith("data:") and not line.endswith("[DONE]"):
                for choice in json.loads(line[5:]).get("choices") or []:
                    text.append((choice.get("delta") or {}).get("content") or "")
    return 200, "".join(text)


@pytest.fixture(scope="module")
def parallel_server(tiny_model):
    with EngineClient() as engine:
        info = engine.load(LoadOptions(str(tiny_model), n_ctx=512, n_parallel=2, n_threads=2))
        assert info.n_parallel == 2
        app = create_app(engine, "tiny", limits=ServerLimits(max_waiting=8))
        with uvicorn_thread(app) as url:
            yield url


def test_more_clients_than_sequences_are_all_answered_as_if_alone(parallel_server):
    questions = [f"question {n}" for n in range(5)]
    alone = [_stream(parallel_server, q) for q in questions]
    assert all(status == 200 for status, _ in alone)
    together: dict[int, tuple[int, str]] = {}
    threads = [threading.Thread(target=lambda n=n: together.__setitem__(n, _stream(parallel_server, questions[n])))
               for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [together[n] for n in range(5)] == alone  # 5 clients on 2 sequences: queued, none refused
    health = httpx.get(parallel_server + "/health").json()
    assert health["parallel"] == 2 and health["waiting"] == 0


def test_serve_splits_an_explicit_parallel_as_llama_server_and_sizes_the_automatic_one(tiny_model):
    options = LoadOptions(str(tiny_model), n_ctx=1024)
    explicit = serve_options(options, 4)
    assert (explicit.n_parallel, explicit.n_ctx, explicit.kv_unified) == (4, 1024, False)  # 256 each
    roomy = serve_options(options, None, free_ram=64 << 30)
    assert (roomy.n_parallel, roomy.n_ctx) == (4, 4 * 1024)  # each request keeps the whole --ctx
    tight = serve_options(options, None, free_ram=1)
    assert (tight.n_parallel, tight.n_ctx) == (2, 2 * 1024)  # never fewer than 2


def test_a_chat_reply_joins_an_api_reply_on_the_shared_engine_instead_of_waiting(tiny_model):
    """The app's API server (BackgroundServer) and its chats (EngineService's start_chat jobs) share one
    engine: with n_parallel > 1 the chat's reply is written beside a long API reply, not after it."""
    import queue

    from app.engine import protocol as p
    from app.engine.protocol import ChatMessage, OverflowPolicy
    from app.engine.sampling import SamplingParams
    from app.server.background import BackgroundServer
    from tests.support.servers import free_port

    with EngineClient() as engine:
        engine.load(LoadOptions(str(tiny_model), n_ctx=1024, n_parallel=2, n_threads=2))
        server = BackgroundServer(engine, "tiny", port=free_port())
        server.start()
        try:
            body = {"messages": [{"role": "user", "content": "a long one"}], "temperature": 0, "max_tokens": 400,
                    "stream": True}
            with httpx.stream("POST", server.url + "/chat/completions", json=body, timeout=120) as response:
                lines = response.iter_lines()
                assert next(line for line in lines if line.startswith("data:"))  # the API reply is writing
                events: queue.Queue[p.Event] = queue.Queue()
                engine.start_chat([ChatMessage("user", "from the window")], SamplingParams(temperature=0.0,
                                  max_tokens=5), OverflowPolicy.STOP, "default", events.put)
                while not isinstance(end := events.get(timeout=60), (p.Done, p.Error)):
                    pass
                assert isinstance(end, p.Done) and end.stats.completion_tokens == 5
                assert server.state.busy  # the API reply is still being written
                rest = [line for line in lines if line.startswith("data:")]
            assert rest[-1] == "data: [DONE]"
        finally:
            server.stop()


def test_the_apps_server_leaves_one_sequence_to_the_chats_and_hearth_serve_queues_twice_its_sequences():
    """The in-app server shares its engine with the window's chats (create_app(shared=True)): API requests
    take at most n_parallel - 1 sequences, so a chat reply never queues behind them in the engine."""
    from types import SimpleNamespace

    engine = SimpleNamespace(info=SimpleNamespace(n_parallel=2))
    assert create_app(engine, "m", shared=True).state.slot.capacity == 1
    assert create_app(engine, "m").state.slot.capacity == 4  # hearth serve: the next ones wait in the engine
    engine.info = SimpleNamespace(n_parallel=4)
    assert create_app(engine, "m", shared=True).state.slot.capacity == 3
    engine.info = SimpleNamespace(n_parallel=1)
    assert create_app(engine, "m", shared=True).state.slot.capacity == 1


@pytest.mark.parametrize(("given", "expected"), [([], None), (["--flash-attn", "on"], True),
                                                  (["--flash-attn", "off"], False)])
def test_serve_passes_its_flash_attention_choice_to_the_engine(tiny_model, monkeypatch, given, expected):
    from app import cli
    from app.server import run

    loaded: list[LoadOptions] = []
    monkeypatch.setattr(run, "serve", lambda options, *a, **k: loaded.append(options) or 0)
    assert cli.main(["serve", "--model", str(tiny_model), "--parallel", "2", *given]) == 0
    assert [o.flash_attn for o in loaded] == [expected] and loaded[0].n_parallel == 2
