"""The router: a local file goes to the engine process, a `remote:` path to its server; one is active."""

from __future__ import annotations

from typing import ClassVar

import pytest

from app.engine import protocol as p
from app.engine.jobs import new_job_id
from app.engine.protocol import ChatMessage, CountResult, EngineError, ErrorKind, LoadOptions, ModelInfo
from app.engine.router import EngineRouter, parse_remote_path, remote_path
from app.engine.sampling import SamplingParams


class FakeRemote:
    """A server's engine: jobs answer at once, on the caller's thread."""

    made: ClassVar[list[FakeRemote]] = []  # every one made, across tests

    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url, self.api_key = base_url, api_key
        self.info = None
        self.closed = False
        self.cancelled: list[int] = []
        FakeRemote.made.append(self)

    def start_load(self, options, on_event, gguf=None, job_id=0):
        job_id = job_id or new_job_id()
        self.info = ModelInfo(options.path, options.path, "remote", 0, 0, 8192, 8192, 0, 0, 0, "server", None, 0.0)
        on_event(p.Loaded(job_id, self.info))
        return job_id

    def start_chat(self, messages, sampling, overflow, thinking, on_event, job_id=0):
        job_id = job_id or new_job_id()
        on_event(p.Token(job_id, "from the server", 3))
        on_event(p.Done(job_id, p.Stats(completion_tokens=3), "from the server"))
        return job_id

    def start_count(self, messages, draft, overflow, max_tokens, thinking, on_event, timeout=30.0, job_id=0):
        job_id = job_id or new_job_id()
        on_event(p.Counted(job_id, CountResult(7, 8192, 7, chat_template="server", estimated=True)))
        return job_id

    def cancel(self, job_id=0):
        self.cancelled.append(job_id)

    def close(self):
        self.closed = True


class FakeLocal:
    def __init__(self) -> None:
        self.info = ModelInfo("/m/local.gguf", "Local", "llama", 1, 1, 4096, 4096, 1, 0, 10, "gguf", None, 0.0)
        self.unloaded = 0

    def start_unload(self, on_event, job_id=0):
        self.info = None
        self.unloaded += 1
        on_event(p.Unloaded(job_id or new_job_id()))
        return job_id

    def unload(self):
        self.start_unload(lambda _event: None)

    def start_load(self, options, on_event, gguf=None, job_id=0):
        job_id = job_id or new_job_id()
        self.info = ModelInfo(options.path, "Local", "llama", 1, 1, 4096, 4096, 1, 0, 10, "gguf", None, 0.0)
        on_event(p.Loaded(job_id, self.info))
        return job_id

    def start_chat(self, messages, sampling, overflow, thinking, on_event, job_id=0):
        job_id = job_id or new_job_id()
        on_event(p.Done(job_id, p.Stats(), f"local ({thinking})"))
        return job_id

    def render_prompt(self, messages, thinking, timeout):
        return p.Rendered(1, "<prompt>", 3, "gguf")

    def cancel(self, job_id=0):
        pass


def test_remote_paths_name_the_server_and_the_model():
    path = remote_path("http://box:8080", "qwen3:8b")
    assert parse_remote_path(path) == ("http://box:8080", "qwen3:8b")
    assert parse_remote_path("/models/a.gguf") is None
    assert parse_remote_path("remote:no-model") is None


def test_a_remote_model_becomes_active_and_frees_the_local_one():
    FakeRemote.made.clear()
    local = FakeLocal()
    router = EngineRouter(local, api_key_for=lambda url: f"key-for-{url}", make_remote=FakeRemote)
    path = remote_path("http://box:8080", "qwen3:8b")
    info = router.load(LoadOptions(path))
    assert info.path == path and router.is_remote and router.info is info  # chats remember server and model
    assert local.unloaded == 1 and FakeRemote.made[0].api_key == "key-for-http://box:8080"
    events = list(router.chat([ChatMessage("user", "hi")], SamplingParams(), p.OverflowPolicy.STOP, "on"))
    assert events[-1].text == "from the server"
    assert router.count([ChatMessage("user", "hi")]).estimated
    with pytest.raises(EngineError) as refused:
        router.render_prompt([ChatMessage("user", "hi")])
    assert refused.value.kind == ErrorKind.BAD_REQUEST and "server" in refused.value.message
    router.cancel(42)
    assert FakeRemote.made[0].cancelled == [42]
    # back to a local file: the server connection is closed
    router.load(LoadOptions("/m/other.gguf"))
    assert not router.is_remote and FakeRemote.made[0].closed
    assert list(router.chat([ChatMessage("user", "hi")], thinking="off"))[-1].text == "local (off)"


def test_the_same_server_is_reused_and_another_one_replaces_it():
    FakeRemote.made.clear()
    router = EngineRouter(FakeLocal(), make_remote=FakeRemote)
    router.load(LoadOptions(remote_path("http://a:1", "m1")))
    router.load(LoadOptions(remote_path("http://a:1", "m2")))
    assert len(FakeRemote.made) == 1
    router.load(LoadOptions(remote_path("http://b:2", "m3")))
    assert len(FakeRemote.made) == 2 and FakeRemote.made[0].closed
    router.close_remote()
    assert FakeRemote.made[1].closed and not router.is_remote
