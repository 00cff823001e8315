"""The remote engine against a real llama-server built from the vendored llama.cpp."""

from __future__ import annotations

import json

import httpx
import pytest

from app import cli
from app.engine import protocol as p
from app.engine.protocol import ChatMessage, ErrorKind, LoadOptions, StopReason
from app.engine.remote import RemoteEngine, sampling_fields
from app.engine.sampling import SamplingParams
from tests.support.servers import LlamaServer, llama_server_binary

QUESTION = [ChatMessage("system", "You are a helpful assistant."),
            ChatMessage("user", "What is the capital of France?")]
STORY = [ChatMessage("user", "Write a very long story about a dragon and a knight.")]


@pytest.fixture(scope="module")
def binary():
    path, why = llama_server_binary()
    if path is None:
        pytest.skip(why)
    return path


@pytest.fixture(scope="module")
def server(binary, smollm2):
    running = LlamaServer(binary, smollm2).start()
    yield running
    running.stop()


def test_greedy_reply_and_prompt_count_equal_the_servers_own(server):
    sampling = SamplingParams(temperature=0.0, max_tokens=24)
    own = httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
        "messages": [{"role": m.role, "content": m.content} for m in QUESTION],
        **sampling_fields(sampling, extensions=True)}).json()
    with RemoteEngine(server.url) as engine:
        info = engine.load(LoadOptions(path=""))
        assert info.n_ctx == 2048
        events = list(engine.chat(QUESTION, sampling))
        count = engine.count(QUESTION)
    done = events[-1]
    assert isinstance(done, p.Done)
    assert done.text == own["choices"][0]["message"]["content"]
    assert "".join(e.text for e in events if isinstance(e, p.Token)) == done.text
    assert done.stats.prompt_tokens == own["usage"]["prompt_tokens"]
    assert (count.prompt_tokens, count.estimated) == (own["usage"]["prompt_tokens"], False)


def test_hearth_chat_engine_equals_the_server(server, capsys):
    own = httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        **sampling_fields(SamplingParams(temperature=0.0, max_tokens=16), extensions=True)}).json()
    code = cli.main(["chat", "What is the capital of France?", "--engine", server.url, "--temperature", "0",
                     "--max-tokens", "16", "--json"])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["reply"] == own["choices"][0]["message"]["content"]
    assert got["prompt_tokens"] == got["counted_prompt_tokens"] == own["usage"]["prompt_tokens"]
    assert got["count_estimated"] is False
    assert cli.main(["models", "--engine", server.url]) == 0
    assert "SmolLM2" in capsys.readouterr().out


def test_stop_closes_the_stream_and_the_server_moves_on(server):
    with RemoteEngine(server.url) as engine:
        engine.load(LoadOptions(path=""))
        events = []
        for event in engine.chat(STORY, SamplingParams(max_tokens=1500)):
            events.append(event)
            if isinstance(event, p.Token) and event.n_tokens == 3:
                engine.cancel()
        done = events[-1]
        assert isinstance(done, p.Done) and done.stats.stop_reason == StopReason.CANCELLED
        assert done.text.startswith("".join(e.text for e in events[:3]))
        # The next reply is answered, so the server is not still writing the cancelled one.
        after = list(engine.chat(QUESTION, SamplingParams(temperature=0.0, max_tokens=4)))[-1]
        assert isinstance(after, p.Done) and after.stats.completion_tokens == 4


def test_a_killed_server_mid_reply_keeps_the_partial_reply(binary, smollm2):
    server = LlamaServer(binary, smollm2).start()
    try:
        with RemoteEngine(server.url) as engine:
            engine.load(LoadOptions(path=""))
            received = []
            events = []
            for event in engine.chat(STORY, SamplingParams(max_tokens=1500)):
                events.append(event)
                if isinstance(event, p.Token):
                    received.append(event.text)
                    if len(received) == 3:
                        server.kill()
        error = events[-1]
        assert isinstance(error, p.Error) and error.kind == ErrorKind.CONNECTION
        assert error.partial == "".join(received) and error.partial
        assert "partial reply is kept" in error.message
    finally:
        server.stop()
