"""Tool calls: Hearth's template rendering and reply parsing against llama-server's (`--jinja`).

Per family, a tiny model whose greedy reply is an exact call in the family's own format is
written with the family's real template (llama.cpp's models/templates, kept in
tests/fixtures/templates). llama-server, built from the same vendored llama.cpp, answers the
chat request with tools; Hearth renders the same request (the prompt must be the same text),
the reply to that prompt is generated, and Hearth's parser must find the same calls and text
that llama-server returned. Skipped when the reference llama-server is not built.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.engine import Done, EngineClient, LoadOptions, SamplingParams
from app.engine.chat_template import ChatTemplate
from app.engine.protocol import ChatMessage
from app.engine.tool_calls import parse_reply, tool_format
from tests.support.reply_model import write_reply_model
from tests.support.servers import LlamaServer, llama_server_binary

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                   "required": ["city"]}}}]
QUESTION = "What is the weather in Paris?"
LLAMA3 = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>",
          "<|python_tag|>"]
CHATML = ["<|im_start|>", "<|im_end|>"]
MISTRAL = ["[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
           "[/TOOL_RESULTS]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[ARGS]", "[CALL_ID]"]
COHERE = ["<|START_OF_TURN_TOKEN|>", "<|END_OF_TURN_TOKEN|>", "<|CHATBOT_TOKEN|>", "<|USER_TOKEN|>",
          "<|SYSTEM_TOKEN|>", "<|START_RESPONSE|>", "<|END_RESPONSE|>", "<|START_THINKING|>", "<|END_THINKING|>"]
DEEPSEEK = ["<｜begin▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>"]
GRANITE = ["<|start_of_role|>", "<|end_of_role|>", "<|end_of_text|>"]
GLM = ["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|endoftext|>"]
KIMI = ["<|im_system|>", "<|im_user|>", "<|im_assistant|>", "<|im_middle|>", "<|im_end|>",
        "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>", "<|tool_call_begin|>",
        "<|tool_call_argument_begin|>", "<|tool_call_end|>"]

# family: (template, control tokens, the reply's pieces, format)
FAMILIES = {
    "qwen2.5": ("Qwen-Qwen2.5-7B-Instruct", CHATML,
                ["Let me check.", "<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n',
                 "</tool_call>"], "hermes"),
    "hermes3-parallel": ("NousResearch-Hermes-3-Llama-3.1-8B-tool_use", CHATML,
                         ["<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n',
                          "</tool_call>\n<tool_call>",
                          '\n{"name": "get_weather", "arguments": {"city": "Rome", "days": 2}}',
                          "\n</tool_call>"], "hermes"),
    "llama3.1": ("meta-llama-Llama-3.1-8B-Instruct", LLAMA3,
                 ['{"name": "get_weather", "parameters": {"city": "Paris"}}'], "llama3"),
    "llama3.1-python-tag": ("meta-llama-Llama-3.1-8B-Instruct", LLAMA3,
                            ["<|python_tag|>", '{"name": "get_weather", "parameters": {"city": "Paris"}}'], "llama3"),
    "llama3.2": ("meta-llama-Llama-3.2-3B-Instruct", LLAMA3,
                 ['{"name": "get_weather", "parameters": {"city": "Paris", "days": 3}}'], "llama3"),
    "llama3.3": ("meta-llama-Llama-3.3-70B-Instruct", LLAMA3,
                 ['{"name": "get_weather", "parameters": {"city": "Paris"}}'], "llama3"),
    "mistral-nemo": ("mistralai-Mistral-Nemo-Instruct-2407", MISTRAL,
                     ["[TOOL_CALLS]", '[{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcDEF123"}]'],
                     "mistral"),
    "mistral-small-3.2": ("Mistral-Small-3.2-24B-Instruct-2506", MISTRAL,
                          ["[TOOL_CALLS]", "get_weather", "[ARGS]", '{"city": "Paris"}'], "mistral"),
    "qwen3-coder": ("Qwen3-Coder", CHATML,
                    ["<tool_call>", "\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
                     "<parameter=days>\n2\n</parameter>\n</function>\n", "</tool_call>"], "qwen3_coder"),
    "command-r7b": ("CohereForAI-c4ai-command-r7b-12-2024-tool_use", COHERE,
                    ["<|START_ACTION|>", '[\n    {"tool_call_id": "0", "tool_name": "get_weather", '
                     '"parameters": {"city": "Paris"}}\n]', "<|END_ACTION|>"], "command_r7b"),
    "deepseek-r1": ("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", DEEPSEEK,
                    ["Let me look it up.", "</think>\n\n", "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>",
                     "function", "<｜tool▁sep｜>",
                     'get_weather\n```json\n{"city": "Paris"}\n```', "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>"],
                    "deepseek_r1"),
    # Granite 3.3's template never writes a past call, so llama-server cannot learn its format: text
    "granite-3.3-text": ("ibm-granite-granite-3.3-2B-Instruct", GRANITE,
                         ["<|tool_call|>", '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'], ""),
    "glm-4.6": ("GLM-4.6", GLM,
                ["\n<think>", "Let me check.", "</think>", "\n<tool_call>", "get_weather\n<arg_key>", "city",
                 "</arg_key>\n<arg_value>", "Paris", "</arg_value>\n<arg_key>", "days", "</arg_key>", "\n<arg_value>",
                 "2", "</arg_value>\n", "</tool_call>"], "glm45"),
    "kimi-k2": ("Kimi-K2-Instruct", KIMI,
                ["Checking.", "<|tool_calls_section_begin|>", "<|tool_call_begin|>", "functions.get_weather:0",
                 "<|tool_call_argument_begin|>", '{"city": "Paris", "days": 2}', "<|tool_call_end|>",
                 "<|tool_calls_section_end|>"], "kimi_k2"),
    "granite-4.0": ("ibm-granite-granite-4.0", GRANITE,
                    ["<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', "</tool_call>"],
                    "hermes"),
}


@pytest.fixture(scope="module")
def engine():
    with EngineClient() as client:
        yield client


@pytest.fixture(scope="module")
def binary() -> Path:
    found, why = llama_server_binary()
    if found is None:
        pytest.skip(why)
    return found


def _source(name: str) -> str:
    return (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_tool_calls_match_llama_server(family: str, binary: Path, engine: EngineClient, tmp_path: Path) -> None:
    name, control, reply, fmt = FAMILIES[family]
    check_parity(name, control, reply, fmt, binary, engine, tmp_path, calls=bool(fmt))


def check_parity(name: str, control: list[str], reply: list[str], fmt: str, binary: Path, engine: EngineClient,
                 tmp_path: Path, calls: bool = True) -> None:
    """llama-server and Hearth answer the same request with the same scripted model: the same prompt,
    then the same calls, text and thinking. `calls`: whether llama-server is to find calls at all."""
    source = _source(name)
    assert tool_format(source) == fmt
    template = ChatTemplate(source, "<s>", "</s>", "file")
    question = [ChatMessage("user", QUESTION)]
    prompt = template.render(question, tools=TOOLS)
    model = write_reply_model(tmp_path / "reply.gguf", source, control, reply, prompt)
    server = LlamaServer(binary, model, ctx=8192)
    server.cmd += ["--jinja", "--no-warmup"]
    server.start()
    try:
        messages = [{"role": "user", "content": QUESTION}]
        applied = httpx.post(server.url + "/apply-template", json={"messages": messages, "tools": TOOLS},
                             timeout=30).json()
        assert applied["prompt"] == prompt.removeprefix("<s>")  # the server's tokenizer adds the BOS
        answer = httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
            "messages": messages, "tools": TOOLS, "temperature": 0, "max_tokens": 128}).json()
    finally:
        server.stop()
    # Hearth's side: its own engine writes the reply (thinking split off), its parser reads it
    info = engine.load(LoadOptions(path=str(model), n_ctx=8192, n_gpu_layers=0))
    assert info.tool_format == fmt
    done = list(engine.chat(question, SamplingParams(temperature=0, max_tokens=128), tools=json.dumps(TOOLS)))[-1]
    assert isinstance(done, Done)
    message = answer["choices"][0]["message"]
    theirs = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls", [])]
    parsed = parse_reply(done.text, fmt, TOOLS)
    ours = [(c.name, json.loads(c.arguments)) for c in parsed.calls]
    assert ours == theirs
    assert parsed.content == (message.get("content") or "").strip()
    assert done.reasoning.strip() == (message.get("reasoning_content") or "").strip()
    assert answer["choices"][0]["finish_reason"] == ("tool_calls" if calls else "stop")
    assert bool(theirs) == calls, f"llama-server's calls in {done.text!r}: {message}"
