"""Tool-call parity with llama-server (`--jinja`) for the families read by modules of their own
(app/engine/tool_formats_*.py): the same scripted-model check as test_tool_call_parity.py.

A scripted model's next token depends on the current one alone, so a reply may not use one token
twice: where a format repeats a marker (Harmony's `<|channel|>`, `<|message|>`), the second one is
written inside a longer user-defined piece, which prints the same text. llama-server samples
under its tool-call grammar, so each reply is one it allows (one call: parallel calls are off by
default; arguments of the schema's types).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.engine import EngineClient
from app.engine.chat_template import ChatTemplate
from app.engine.protocol import ChatMessage
from tests.engine.test_tool_call_parity import (  # noqa: F401 (binary and engine: fixtures)
    GRANITE,
    MISTRAL,
    QUESTION,
    TEMPLATES,
    TOOLS,
    binary,
    check_parity,
    engine,
)
from tests.support.reply_model import write_reply_model
from tests.support.servers import LlamaServer

HARMONY = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"]

# case: (template, control tokens, the reply's pieces, format, whether llama-server finds a call)
CASES = {
    # thinking, then the call with its recipient in the channel header and a <|constrain|>
    "gpt-oss": ("openai-gpt-oss-120b", HARMONY,
                ["<|channel|>", "analysis", "<|message|>", "Let me check.", "<|end|>", "<|start|>",
                 "assistant<|channel|>commentary to=functions.get_weather ", "<|constrain|>", "json<|message|>",
                 '{"city":"Paris"}', "<|call|>"], "gpt_oss", True),
    # the reply opens with the recipient: the prompt wrote `<|start|>assistant`
    "gpt-oss-role-recipient": ("openai-gpt-oss-120b", HARMONY,
                               [" to=functions.get_weather", "<|channel|>", "commentary json", "<|message|>",
                                '{"city": "Paris", "days": 2}', "<|call|>"], "gpt_oss", True),
    # a preamble on the commentary channel is the reply's text
    "gpt-oss-preamble": ("openai-gpt-oss-120b", HARMONY,
                         ["<|channel|>", "commentary", "<|message|>", "Checking the weather.", "<|end|>", "<|start|>",
                          "assistant to=functions.get_weather<|channel|>commentary json<|message|>",
                          '{"city":"Rome"}', "<|call|>"], "gpt_oss", True),
    # no call: thinking, then the final channel's answer (and <|end|> does not end the reply)
    "gpt-oss-answer": ("openai-gpt-oss-120b", HARMONY,
                       ["<|channel|>", "analysis", "<|message|>", "The user asks.", "<|end|>", "<|start|>",
                        "assistant<|channel|>final<|message|>", "It is sunny.", "<|return|>"], "gpt_oss", False),
}

LLAMA3 = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>",
          "<|python_tag|>"]
CHATML = ["<|im_start|>", "<|im_end|>"]
DEEPSEEK = ["<｜begin▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>",
            "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
            "<｜tool▁calls▁end｜>"]
CASES.update({
    "lfm2.5": ("LFM2.5-8B-A1B", CHATML + ["<|tool_call_start|>", "<|tool_call_end|>"],
               ["Sure.", "<|tool_call_start|>", "[get_weather(city='Paris', days=2)]", "<|tool_call_end|>"],
               "lfm2", True),
    "lfm2": ("LFM2-8B-A1B", CHATML + ["<|tool_list_start|>", "<|tool_list_end|>", "<|tool_call_start|>",
                                      "<|tool_call_end|>"],
             ["<|tool_call_start|>", '[get_weather(city="Paris", days=null)]', "<|tool_call_end|>"], "lfm2", True),
    "gemma-4": ("google-gemma-4-31B-it", ["<|turn>", "<turn|>", "<|tool_call>", "<tool_call|>"],
                ["Checking.", "<|tool_call>", 'call:get_weather{city:<|"|>Paris<|"|>,days:2}', "<tool_call|>"],
                "gemma4", True),
    "minimax-m2": ("MiniMax-M2", ["]~b]", "[e~["],
                   ["Let me check.", "\n</think>\n\n", "<minimax:tool_call>",
                    '\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n'
                    '<parameter name="days">2</parameter>\n</invoke>\n', "</minimax:tool_call>"], "minimax_m2", True),
    "seed-oss": ("ByteDance-Seed-OSS", ["<seed:bos>", "<seed:eos>", "<seed:tool_call>", "</seed:tool_call>"],
                 ["<seed:tool_call>", "\n<function=get_weather>\n<parameter=city>Paris</parameter>\n"
                  "<parameter=days>2</parameter>\n</function>\n", "</seed:tool_call>"], "seed_oss", True),
    "deepseek-v3.1": ("deepseek-ai-DeepSeek-V3.1", DEEPSEEK,
                      ["Hm.", "</think>", "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "get_weather",
                       "<｜tool▁sep｜>", '{"city": "Paris"}', "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>"],
                      "deepseek_v31", True),
    "deepseek-v3.2": ("deepseek-ai-DeepSeek-V3.2", DEEPSEEK,
                      ["</think>", "\n\n<｜DSML｜function_calls>\n", '<｜DSML｜invoke name="get_weather">\n'
                       '<｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>\n'
                       '<｜DSML｜parameter name="days" string="false">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n',
                       "</｜DSML｜function_calls>"], "deepseek_dsml", True),
    "deepseek-v4": ("deepseek-ai-DeepSeek-V4", DEEPSEEK,
                    ["</think>", "\n\n<｜DSML｜tool_calls>\n", '<｜DSML｜invoke name="get_weather">\n'
                     '<｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>\n</｜DSML｜invoke>\n',
                     "</｜DSML｜tool_calls>"], "deepseek_dsml", True),
    "functionary-v3.1": ("meetkai-functionary-medium-v3.1", LLAMA3,
                         ["<function=get_weather>", '{"city": "Paris", "days": 2}', "</function>"],
                         "functionary_v31", True),
    "firefunction-v2": ("fireworks-ai-llama-3-firefunction-v2", LLAMA3,
                        [" functools", '[{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}]'],
                        "firefunction_v2", True),
    "nemotron-nano-v2": ("NVIDIA-Nemotron-Nano-v2", ["<SPECIAL_10>", "<SPECIAL_11>", "<SPECIAL_12>", "<TOOLCALL>",
                                                     "</TOOLCALL>"],
                         ["Let me check.", "\n</think>\n", "<TOOLCALL>",
                          '[{"name": "get_weather", "arguments": {"city": "Paris"}}]', "</TOOLCALL>"],
                         "nemotron_v2", True),
    "minimax-m1": ("MiniMax-M1", ["<beginning_of_sentence>", "<end_of_sentence>"],
                   ["<tool_calls>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', "</tool_calls>"],
                   "minimax_m1", True),
    "gigachat-3.1": ("GigaChat3.1-10B-A1.8B", ["<|message_sep|>", "<|role_sep|>", "<|function_call|>"],
                     ["<|function_call|>", '{"name": "get_weather", "arguments": {"city": "Paris"}}'],
                     "gigachat_v31", True),
    # thinking, then GLM-style calls in templates that are not GLM's own
    "glm-4.7": ("GLM-4.7-Flash", ["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"],
                ["Hm.", "</think>", "<tool_call>", "get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value>",
                 "</tool_call>"], "glm45", True),
    "ling-3.0": ("inclusionai-ling-3.0-flash", ["<|role_end|>"],
                 ["Hm.", "</think>", "<tool_call>", "get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>"
                  "\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n", "</tool_call>"], "glm45", True),
    "laguna-s-2.1": ("poolside-Laguna-S-2.1", [],
                     ["Hm.", "</think>", "<tool_call>", "get_weather<arg_key>city</arg_key>",
                      "<arg_value>Paris</arg_value>", "</tool_call>"], "glm45", True),
    "spark-2.5": ("Spark2.5", ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<|Bot|>"],
                  ["Hm.", "</think>", "<tool_call>", "get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value>",
                   "</tool_call>"], "glm45", True),
    "minicpm5": ("openbmb-MiniCPM5-1B", CHATML,
                 ["Hm.", "\n</think>\n", '<function name="get_weather">', '<param name="city">Paris</param>',
                  "</function>"], "minicpm5", True),
    "hunyuan-3": ("tencent-Hy3", [],
                  ["<tool_calls:opensource>", "\n<tool_call:opensource>get_weather<tool_sep:opensource>\n"
                   "<arg_key:opensource>city</arg_key:opensource>\n<arg_value:opensource>Paris</arg_value:opensource>\n"
                   "</tool_call:opensource>\n", "</tool_calls:opensource>"], "hunyuan3", True),
    "seed-oss-thinking": ("ByteDance-Seed-OSS", ["<seed:bos>", "<seed:eos>"],
                          ["<seed:think>", "Hm.", "</seed:think>", "<seed:tool_call>",
                           "\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n",
                           "</seed:tool_call>"], "seed_oss", True),
    # the prompt ends with `>>>`: a call names its recipient; text goes to `all` (read without it)
    "functionary-v3.2": ("meetkai-functionary-medium-v3.2", LLAMA3,
                         ["get_weather", "\n", '{"city": "Paris"}'], "functionary_v32", True),
    "functionary-v3.2-text": ("meetkai-functionary-medium-v3.2", LLAMA3,
                              ["all", "\n", "It is sunny in Paris."], "functionary_v32", False),
    "minimax-m3": ("MiniMax-M3", ["]~b]", "[e~["],
                   ["<mm:think>", "Hm.", "</mm:think>", "]<]minimax[>[", "<tool_call>"
                    '\n]<]minimax[>[<invoke name="get_weather">]<]minimax[>[<city>Paris]<]minimax[>[</city>'
                    ']<]minimax[>[<days>2]<]minimax[>[</days>]<]minimax[>[</invoke>\n', "]<]minimax[>[</tool_call>"],
                   "minimax_m3", True),
    "minimax-m3-no-thinking": ("MiniMax-M3", ["]~b]", "[e~["], ["</mm:think>", "It is sunny."], "minimax_m3", False),
    # the reply opens with its recipient, as gpt-oss's may: the reasoning parser reads that header
    "muse-glimmer": ("muse-glimmer", ["<|start|>", "<|message|>", "<|eot|>", "<|eom|>"],
                     [" to=get_weather", "<|message|>", '<atem:function_calls>\n<atem:invoke name="get_weather">\n'
                      '<atem:parameter name="city">Paris</atem:parameter>\n</atem:invoke>\n</atem:function_calls>'],
                     "muse_glimmer", True),
    # more templates of the formats tool_calls.py reads itself
    "hermes-2-pro": ("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", CHATML,
                     ["<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', "</tool_call>"],
                     "hermes", True),
    "mimo-vl": ("MiMo-VL", CHATML,
                ["<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', "</tool_call>"],
                "hermes", True),
    "qwq": ("Qwen-QwQ-32B", CHATML,
            ["Hm.", "\n</think>\n\n", "<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n',
             "</tool_call>"], "hermes", True),
    "granite-4.1": ("ibm-granite-granite-4.1", GRANITE,
                    ["<tool_call>", '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', "</tool_call>"],
                    "hermes", True),
    "qwen3.5": ("Qwen3.5-4B", CHATML,
                ["Hm.", "\n</think>\n\n", "<tool_call>", "\n<function=get_weather>\n<parameter=city>\nParis\n"
                 "</parameter>\n</function>\n", "</tool_call>"], "qwen3_coder", True),
    "nemotron-3-nano": ("NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", CHATML,
                        ["Hm.", "</think>\n", "<tool_call>", "\n<function=get_weather>\n<parameter=city>\nParis\n"
                         "</parameter>\n</function>\n", "</tool_call>"], "qwen3_coder", True),
    "ministral-3-reasoning": ("mistralai-Ministral-3-14B-Reasoning-2512", MISTRAL,
                              ["[TOOL_CALLS]", "get_weather", "[ARGS]", '{"city": "Paris"}'], "mistral", True),
    "devstral-small": ("unsloth-mistral-Devstral-Small-2507", MISTRAL,
                       ["[TOOL_CALLS]", "get_weather", "[ARGS]", '{"city": "Paris"}'], "mistral", True),
    "laguna-xs-2.1": ("poolside-Laguna-XS-2.1", [],
                      ["Hm.", "</think>", "\n<tool_call>", "get_weather\n<arg_key>city</arg_key>\n"
                       "<arg_value>Paris</arg_value>\n", "</tool_call>"], "glm45", True),
})


@pytest.mark.parametrize("case", sorted(CASES))
def test_tool_calls_match_llama_server(case: str, binary: Path, engine: EngineClient,  # noqa: F811
                                       tmp_path: Path) -> None:
    name, control, reply, fmt, calls = CASES[case]
    check_parity(name, control, reply, fmt, binary, engine, tmp_path, calls=calls)


# templates whose past calls llama-server renders with the arguments as an object, or as text
ROUND_TRIPS = ["meetkai-functionary-medium-v3.2", "meetkai-functionary-medium-v3.1", "openai-gpt-oss-120b",
               "MiniMax-M2", "google-gemma-4-31B-it", "ByteDance-Seed-OSS", "deepseek-ai-DeepSeek-V3.1",
               "Kimi-K2-Instruct", "moonshotai-Kimi-K2"]


@pytest.mark.parametrize("name", ROUND_TRIPS + ["openai-gpt-oss-120b:thinking"])
def test_a_call_and_its_result_render_as_llama_server_renders_them(name: str, binary: Path,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    name, _, thinking = name.partition(":")  # with thinking: gpt-oss writes it before the call
    reasoning = "Let me check." if thinking else ""
    source = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
    template = ChatTemplate(source, "<s>", "</s>", "file")
    history = [ChatMessage("user", QUESTION),
               ChatMessage("assistant", "", reasoning,
                           tool_calls=(("abcDEF123", "get_weather", '{"city": "Paris"}'),)),
               ChatMessage("tool", "18 C, sunny", tool_call_id="abcDEF123")]
    prompt = template.render(history, tools=TOOLS)
    model = write_reply_model(tmp_path / "reply.gguf", source, [], ["Sunny."], prompt)
    server = LlamaServer(binary, model, ctx=8192)
    server.cmd += ["--jinja", "--no-warmup"]
    server.start()
    try:
        call = {"id": "abcDEF123", "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        said = {"role": "assistant", "content": "", "tool_calls": [call]}
        if reasoning:
            said["reasoning_content"] = reasoning
        messages = [{"role": "user", "content": QUESTION}, said,
                    {"role": "tool", "content": "18 C, sunny", "tool_call_id": "abcDEF123"}]
        applied = httpx.post(server.url + "/apply-template", json={"messages": messages, "tools": TOOLS},
                             timeout=30).json()
    finally:
        server.stop()
    assert applied["prompt"] == prompt.removeprefix("<s>")
