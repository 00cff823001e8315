"""The managed llama-server runtime: checking a build, starting and stopping it, and its replies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.engine import server_runtime
from app.engine.protocol import EngineError, ErrorKind, LoadOptions
from app.engine.server_runtime import ManagedServer, check_runtime, find_binary
from tests.support.servers import llama_server_binary

QUESTION = "What is the capital of France?"


def fake_server(folder: Path, said: str) -> Path:
    binary = folder / "build" / "bin" / "llama-server"
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\nprintf '%s\\n' \"{said}\" >&2\n")
    binary.chmod(0o755)
    return binary


def test_a_build_folder_is_checked_by_its_version(tmp_path):
    binary = fake_server(tmp_path, "version: 7100 (build 11403, commit abc1234)")
    assert find_binary(tmp_path) == binary
    info = check_runtime(tmp_path)
    assert (info.build, info.commit, info.label) == (11403, "abc1234", "llama-server b11403")


def test_what_is_not_a_llama_server_is_said_plainly(tmp_path):
    with pytest.raises(EngineError) as caught:
        check_runtime(tmp_path)
    assert caught.value.kind == ErrorKind.MISSING_FILE and "no llama-server in" in caught.value.message
    fake_server(tmp_path, "hello")
    with pytest.raises(EngineError) as caught:
        check_runtime(tmp_path)
    assert "does not say a llama.cpp version" in caught.value.message


@pytest.fixture(scope="module")
def runtime():
    path, why = llama_server_binary()
    if path is None:
        pytest.skip(why)
    return check_runtime(path)


def hearth(*args: str, question: str = QUESTION, max_tokens: int = 24) -> dict:
    result = subprocess.run([sys.executable, "-m", "app", "chat", *args, "--temperature", "0", "--repeat-penalty",
                             "1", "--max-tokens", str(max_tokens), "--ctx", "2048", "--json", question],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_chat_through_the_managed_server_equals_the_built_in_engine(runtime, smollm2):
    served = hearth("--runtime", runtime.binary, "--model", str(smollm2))
    built_in = hearth("--model", str(smollm2))
    assert served["reply"] == built_in["reply"] and served["reply"]
    assert served["prompt_tokens"] == served["counted_prompt_tokens"] == built_in["prompt_tokens"]
    assert served["count_estimated"] is False
    assert served["completion_tokens"] == built_in["completion_tokens"] == 24


def test_a_reply_that_ends_by_itself_counts_as_on_the_built_in_engine(runtime, smollm2):
    # llama-server counts the end-of-sequence token it sampled; the built-in engine does not.
    served = hearth("--runtime", runtime.binary, "--model", str(smollm2), question="Hi", max_tokens=64)
    built_in = hearth("--model", str(smollm2), question="Hi", max_tokens=64)
    assert served["reply"] == built_in["reply"] and served["stop_reason"] == built_in["stop_reason"] == "eos"
    assert served["completion_tokens"] == built_in["completion_tokens"] < 64


def test_every_started_server_is_stopped_and_its_key_is_needed(runtime, tiny_model):
    server = ManagedServer(runtime, LoadOptions(str(tiny_model), n_ctx=256)).start()
    assert httpx.get(server.url + "/v1/models", timeout=5).status_code == 401  # a random key guards it
    headers = {"Authorization": f"Bearer {server.api_key}"}
    assert httpx.get(server.url + "/v1/models", headers=headers, timeout=5).status_code == 200
    process = server.process
    assert process is not None
    server_runtime.stop_all()  # what closing the app (or the CLI's exit) runs
    assert process.poll() is not None and not server_runtime._live


def test_a_model_the_server_cannot_load_names_its_reason(runtime, broken_models):
    with pytest.raises(EngineError) as caught:
        ManagedServer(runtime, LoadOptions(str(broken_models["wrong_arch"]), n_ctx=256)).start()
    assert caught.value.kind == ErrorKind.LOAD_FAILED and "notarealarch" in caught.value.message


def test_the_router_runs_a_chosen_model_on_the_managed_server_and_stops_it(runtime, smollm2):
    from app.engine import EngineClient
    from app.engine.protocol import ChatMessage, Done
    from app.engine.router import EngineRouter
    from app.engine.sampling import SamplingParams

    router = EngineRouter(EngineClient(), runtime_for=lambda path: runtime if path == str(smollm2) else None)
    try:
        info = router.load(LoadOptions(str(smollm2), n_ctx=2048))
        assert router.is_remote and info.path == str(smollm2)
        assert info.notice.startswith(f"Engine: {runtime.label}")
        events = list(router.chat([ChatMessage("user", QUESTION)], SamplingParams(temperature=0, max_tokens=8,
                                                                                  repeat_penalty=1)))
        assert isinstance(events[-1], Done) and events[-1].text
        assert len(server_runtime._live) == 1
    finally:
        router.close()
    assert not server_runtime._live  # closing (the app quitting) stops the server it started


def test_a_model_only_a_newer_llama_cpp_knows_goes_to_the_runtime_by_itself(tmp_path, tiny_model, broken_models):
    from app.engine import managed_runtime

    binary = fake_server(tmp_path, "version: 7100 (build 11403, commit abc1234)")
    engines: dict[str, str] = {}
    choose = managed_runtime.runtime_chooser(lambda: str(binary), lambda: engines)
    assert choose(str(tiny_model)) is None  # the built-in engine knows llama
    from app.library.architectures import list_applies

    if list_applies():
        chosen = choose(str(broken_models["wrong_arch"]))
        assert chosen is not None and chosen.label == "llama-server b11403"
    engines[str(tiny_model)] = managed_runtime.RUNTIME  # chosen per model
    assert choose(str(tiny_model)) is not None
    engines[str(broken_models["wrong_arch"])] = managed_runtime.BUILT_IN
    assert choose(str(broken_models["wrong_arch"])) is None
    assert managed_runtime.runtime_chooser(lambda: "", lambda: engines)(str(tiny_model)) is None  # none set up


def test_the_context_meter_counts_as_on_the_built_in_engine(runtime, smollm2):
    from app.engine import EngineClient
    from app.engine.protocol import ChatMessage
    from app.engine.router import EngineRouter

    chat = [ChatMessage("system", "You are brief."), ChatMessage("user", "Hi"),
            ChatMessage("assistant", "Hello! How can I assist you today?"), ChatMessage("user", "Name a colour."),
            ChatMessage("assistant", "Blue.")]  # the meter's history ends on a reply
    counts = {}
    for name, runtime_for in (("served", lambda path: runtime), ("built_in", lambda path: None)):
        router = EngineRouter(EngineClient(), runtime_for=runtime_for)
        try:
            router.load(LoadOptions(str(smollm2), n_ctx=2048))
            counts[name] = [router.count(chat).prompt_tokens, router.count(chat, "And another?").prompt_tokens]
        finally:
            router.close()
    assert counts["served"] == counts["built_in"]


def test_show_tokens_and_the_models_name_on_the_managed_server_are_the_built_in_engines(runtime, smollm2):
    from app.engine import EngineClient
    from app.engine.protocol import ChatMessage
    from app.engine.router import EngineRouter

    chat = [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello! How can I help?")]
    seen = {}
    for name, runtime_for in (("served", lambda path: runtime), ("built_in", lambda path: None)):
        router = EngineRouter(EngineClient(), runtime_for=runtime_for)
        try:
            info = router.load(LoadOptions(str(smollm2), n_ctx=2048))
            seen[name] = (info.name, router.tokenize(messages=chat).tokens, router.tokenize("Héllo, wörld").tokens)
        finally:
            router.close()
    assert "/" not in seen["served"][0]  # the model's name, not its file's path
    assert seen["served"] == seen["built_in"]  # names, ids, pieces and control tokens alike
    assert any(special for _, _, special in seen["served"][1])  # <|im_start|> is marked
