"""A broken or hostile OpenAI-compatible server: every load and reply ends with a plain sentence
(or a usable result), never with a traceback, and what the server sends is read within bounds."""

from __future__ import annotations

import json

import pytest

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, StopReason
from app.engine.remote import RemoteEngine
from tests.support.hostile_server import ENDLESS_BODY, ENDLESS_LINE, HostileServer, sse
from tests.support.servers import free_port

HELLO = [ChatMessage("user", "hello")]
MAX_JSON_BYTES = 16 << 20  # remote_http.MAX_JSON_BYTES


def chat(server: HostileServer) -> list:
    with RemoteEngine(server.url, timeout=10) as engine:
        engine.load(LoadOptions(path="evil"))
        return list(engine.chat(HELLO))


def delta(**fields) -> dict:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


@pytest.mark.parametrize("chunk, said", [
    ({"choices": "abc"}, "'choices' is not a list"),
    ({"choices": ["abc"]}, "a choice is not an object"),
    ({"choices": [{"delta": "hi"}]}, "a choice's 'delta' is not an object"),
    (delta(content=42), "a delta's 'content' is not text"),
    (delta(reasoning_content={"x": 1}), "a delta's 'reasoning_content' is not text"),
])
def test_a_malformed_chunk_ends_the_reply_with_one_sentence_and_keeps_the_text(chunk, said):
    with HostileServer({"/v1/chat/completions": (200, sse(delta(content="Hi"), chunk))}) as server:
        events = chat(server)
    error = events[-1]
    assert isinstance(error, p.Error) and error.kind == ErrorKind.BAD_REQUEST
    assert error.message == f"{server.url} sent a reply Hearth cannot read: {said}"
    assert error.partial == "Hi" and sum(isinstance(e, (p.Done, p.Error)) for e in events) == 1


def test_wrong_types_in_finish_reason_and_usage_still_give_the_reply():
    body = sse(delta(content="Hi"), {"choices": [{"delta": {}, "finish_reason": ["stop"]}]},
               {"choices": [], "usage": {"prompt_tokens": -3, "completion_tokens": "many",
                                         "prompt_tokens_details": "none"}})
    with HostileServer({"/v1/chat/completions": (200, body)}) as server:
        done = chat(server)[-1]
    assert isinstance(done, p.Done) and done.text == "Hi" and done.stats.stop_reason == StopReason.EOS
    assert (done.stats.completion_tokens, done.stats.prompt_tokens, done.stats.cached_tokens) == (1, 0, 0)


@pytest.mark.parametrize("props", [
    {"default_generation_settings": {"n_ctx": [4096]}},
    {"default_generation_settings": {"n_ctx": 10**30}},
    {"default_generation_settings": "big"},
    ["n_ctx", 4096],
])
def test_malformed_props_leave_the_context_size_unknown(props):
    with HostileServer({"/props": (200, json.dumps(props).encode())}) as server:
        with RemoteEngine(server.url, timeout=10) as engine:
            assert engine.load(LoadOptions(path="evil")).n_ctx == 0


@pytest.mark.parametrize("body, said", [
    (b"[" * 100_000 + b"]" * 100_000, "did not answer JSON"),  # nested past Python's recursion limit
    (b"x" * (MAX_JSON_BYTES + 1), "sent more than 16 MiB"),  # refused from its Content-Length
    (ENDLESS_BODY, "sent more than 16 MiB"),  # no length: refused while reading
    (json.dumps({"data": {"id": "evil"}}).encode(), "has no model list"),
])
def test_a_malformed_or_endless_model_list_fails_the_load_with_one_sentence(body, said):
    with HostileServer({"/v1/models": body}) as server:
        with RemoteEngine(server.url, timeout=10) as engine:
            with pytest.raises(EngineError) as caught:
                engine.load(LoadOptions(path="evil"))
    assert said in caught.value.message and "\n" not in caught.value.message
    assert server.sent < 2 * MAX_JSON_BYTES


def test_model_entries_without_a_plain_string_id_are_skipped():
    models = {"data": [{"id": "good"}, {"id": ["x"]}, 5, {"id": None}, {"name": "no id"}, {"id": "two\nlines"},
                       {"id": "\x1b[2Jclear"}]}
    with HostileServer({"/v1/models": (200, json.dumps(models).encode())}) as server:
        with RemoteEngine(server.url, timeout=10) as engine:
            assert engine.models() == ["good"]


def test_an_endless_line_is_refused_after_one_mib():
    with HostileServer({"/v1/chat/completions": ENDLESS_LINE}) as server:
        events = chat(server)
        assert server.hung_up.wait(10)
    error = events[-1]
    assert isinstance(error, p.Error) and "sent a line longer than 1 MiB" in error.message
    assert server.sent < 8 << 20  # the client hung up after about a megabyte


def test_an_endless_error_body_is_read_only_in_part():
    with HostileServer({"/v1/chat/completions": (400, ENDLESS_BODY)}) as server:
        error = chat(server)[-1]
        assert server.hung_up.wait(10)
    assert isinstance(error, p.Error) and error.message == f"{server.url} rejected the request (HTTP 400)"
    assert server.sent < 8 << 20


def test_a_refused_connection_says_why_in_words():
    url = f"http://127.0.0.1:{free_port()}"
    with RemoteEngine(url, timeout=5, connect_timeout=2) as engine:
        with pytest.raises(EngineError) as caught:
            engine.models()
    message = caught.value.message
    assert message.startswith(f"could not connect to {url} (") and "{exc}" not in message
    assert message.endswith("is the server running and the address right?")


def test_hearth_chat_against_a_hostile_server_exits_2_with_one_line(capsys):
    from app.cli import main

    with HostileServer({"/v1/chat/completions": (200, sse({"choices": "abc"}))}) as server:
        assert main(["chat", "--engine", server.url, "--model", "evil", "Hello"]) == 2
    err = capsys.readouterr().err
    assert err == f"hearth: {server.url} sent a reply Hearth cannot read: 'choices' is not a list\n"


def test_hearth_models_against_a_nested_model_list_exits_2_with_one_line(capsys):
    from app.cli import main

    with HostileServer({"/v1/models": (200, b"[" * 100_000)}) as server:
        assert main(["models", "--engine", server.url]) == 2
    assert capsys.readouterr().err == f"hearth: {server.url}/v1/models did not answer JSON: " \
        "is this an OpenAI-compatible server?\n"


def test_a_reply_past_the_size_bound_is_stopped_and_kept(monkeypatch):
    from app.engine import remote_stream

    monkeypatch.setattr(remote_stream, "MAX_REPLY_CHARS", 1000)
    with HostileServer({"/v1/chat/completions": (200, sse(*[delta(content="x" * 100)] * 20))}) as server:
        events = chat(server)
    error = events[-1]
    assert isinstance(error, p.Error) and error.message == (
        f"{server.url} sent a reply longer than 1,000 characters; it was stopped (the partial reply is kept)")
    assert error.partial == "x" * 1000


@pytest.mark.parametrize("answer", [
    (400, json.dumps({"error": {"message": "bad\n\x1b[31mred\r\nhearth: forged line"}}).encode()),
    (200, sse({"error": {"message": "bad\n\x1b[31mred\r\nhearth: forged line"}})),
])
def test_server_text_in_an_error_stays_on_one_plain_line(answer):
    with HostileServer({"/v1/chat/completions": answer}) as server:
        error = chat(server)[-1]
    assert isinstance(error, p.Error)
    assert error.message.endswith("bad [31mred hearth: forged line")
