"""Safe defaults: loopback unless told, a key for anything else, 401 without the key."""

from __future__ import annotations

import httpx
import pytest

from app import cli
from app.cli.common import EXIT_USAGE
from app.engine import protocol as p
from app.server.app import create_app
from app.server.run import check_binding
from tests.support.servers import uvicorn_thread


class NoEngine:
    info = None

    def chat(self, *a, **k):
        raise AssertionError("a refused request must not reach the engine")

    complete = chat

    def cancel(self) -> None:
        pass


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_key(host):
    assert check_binding(host, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::"])
def test_other_addresses_need_a_key(host):
    assert "--api-key" in check_binding(host, None)
    assert check_binding(host, "secret") is None


def test_serve_refuses_a_public_address_without_a_key_before_loading(capsys, tmp_path):
    code = cli.main(["serve", "--model", str(tmp_path / "never-read.gguf"), "--host", "0.0.0.0"])
    assert code == EXIT_USAGE
    assert "--api-key" in capsys.readouterr().err


def test_api_key_is_required_when_set():
    with uvicorn_thread(create_app(NoEngine(), "m", api_key="sesame")) as url:
        body = {"messages": [{"role": "user", "content": "hi"}]}
        refused = httpx.post(url + "/v1/chat/completions", json=body)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
        wrong = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer sesame"})
        assert ok.status_code == 200 and ok.json()["data"][0]["id"] == "m"


def test_serve_names_a_bad_allowed_origin_before_loading(capsys, tmp_path):
    code = cli.main(["serve", "--model", str(tmp_path / "never-read.gguf"), "--allow-origin", "http://ok.example",
                     "--allow-origin", "example.com"])
    assert code == EXIT_USAGE
    assert "--allow-origin: 'example.com' is not a web origin" in capsys.readouterr().err


class NoLastWordEngine:
    """A reply that stops after a token, with neither Done nor Error (an engine that lost its way)."""

    info = None

    def chat(self, *a, **k):
        yield p.Token(0, "half", 1)

    def cancel(self) -> None:
        pass


def test_a_reply_the_engine_never_finished_is_a_plain_500_not_a_wait_for_ever():
    body = {"messages": [{"role": "user", "content": "hi"}]}
    with uvicorn_thread(create_app(NoLastWordEngine(), "m")) as url:
        answer = httpx.post(url + "/v1/chat/completions", json=body, timeout=10)
        assert answer.status_code == 500
        assert answer.json()["error"]["message"] == "the engine ended the reply without finishing it"
        streamed = httpx.post(url + "/v1/chat/completions", json={**body, "stream": True}, timeout=10).text
        assert '"content":"half"' in streamed.replace(" ", "") and "without finishing it" in streamed
        assert streamed.rstrip().endswith("data: [DONE]")
