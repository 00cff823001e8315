"""The families read by modules of their own (app/engine/tool_formats_*.py), without llama-server:
which template picks which format, what each reads, and what stays text."""

from __future__ import annotations

import json

import pytest

from app.engine.tool_calls import CALL_MARKERS, parse_reply, tool_format
from tests.engine.test_tool_call_parity import TEMPLATES, TOOLS

FORMATS = {
    "openai-gpt-oss-120b": "gpt_oss", "LFM2-8B-A1B": "lfm2", "LFM2.5-8B-A1B": "lfm2", "LFM2.5-Instruct": "lfm2",
    "google-gemma-4-31B-it": "gemma4", "google-gemma-4-31B-it-interleaved": "gemma4", "ByteDance-Seed-OSS": "seed_oss",
    "MiniMax-M1": "minimax_m1", "MiniMax-M2": "minimax_m2", "deepseek-ai-DeepSeek-V3.1": "deepseek_v31",
    "deepseek-ai-DeepSeek-V3.2": "deepseek_dsml", "deepseek-ai-DeepSeek-V4": "deepseek_dsml",
    "meetkai-functionary-medium-v3.1": "functionary_v31", "meetkai-functionary-medium-v3.2": "functionary_v32",
    "fireworks-ai-llama-3-firefunction-v2": "firefunction_v2", "NVIDIA-Nemotron-Nano-v2": "nemotron_v2",
    "GigaChat3.1-10B-A1.8B": "gigachat_v31", "openbmb-MiniCPM5-1B": "minicpm5", "tencent-Hy3": "hunyuan3",
    "GLM-4.7-Flash": "glm45", "inclusionai-ling-3.0-flash": "glm45", "poolside-Laguna-S-2.1": "glm45",
    "Spark2.5": "glm45", "MiniMax-M3": "minimax_m3", "muse-glimmer": "muse_glimmer",
    # unchanged: the formats tool_calls.py reads itself
    "Qwen-Qwen2.5-7B-Instruct": "hermes", "Qwen3-Coder": "qwen3_coder", "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16":
    "qwen3_coder", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": "deepseek_r1", "GLM-4.6": "glm45",
    "moonshotai-Kimi-K2": "kimi_k2", "meta-llama-Llama-3.1-8B-Instruct": "llama3", "google-gemma-2-2b-it": "",
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_formats_are_chosen_from_the_template_source(name: str) -> None:
    assert tool_format((TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")) == FORMATS[name]


def test_every_format_has_a_call_marker() -> None:
    assert set(FORMATS.values()) - {""} <= set(CALL_MARKERS)


READS = [  # (format, reply, its text, its calls)
    ("lfm2", "Sure.<|tool_call_start|>[get_weather(city='Paris', days=null), get_weather(city=\"Rome\")]"
             "<|tool_call_end|>", "Sure.", [{"city": "Paris", "days": None}, {"city": "Rome"}]),
    ("gemma4", 'Ok.<|tool_call>call:get_weather{city:<|"|>Paris, FR<|"|>,days:2}<tool_call|>'
               '<|tool_call>call:get_weather{city:<|"|>Rome<|"|>}<tool_call|>', "Ok.",
     [{"city": "Paris, FR", "days": 2}, {"city": "Rome"}]),
    ("minimax_m2", '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">42</parameter>\n'
                   '<parameter name="days">3</parameter>\n</invoke>\n</minimax:tool_call>', "",
     [{"city": "42", "days": 3}]),  # the schema says city is a string
    ("seed_oss", "Hi.<seed:tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n"
                 "</seed:tool_call>", "Hi.", [{"city": "Paris"}]),
    ("deepseek_dsml", '<｜DSML｜tool_calls>\n<｜DSML｜invoke name="get_weather">\n<｜DSML｜parameter name="city" '
                      'string="true">7</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>', "",
     [{"city": "7"}]),
    ("functionary_v31", '<function=get_weather>{"city": "Paris"}</function>', "", [{"city": "Paris"}]),
    ("functionary_v32", 'all\nLet me look.>>>get_weather\n{"city": "Paris"}', "Let me look.", [{"city": "Paris"}]),
    ("firefunction_v2", ' functools[{"name": "get_weather", "arguments": {"city": "Paris"}}]', "", [{"city": "Paris"}]),
    ("nemotron_v2", '<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</TOOLCALL>', "",
     [{"city": "Paris"}]),
    ("minimax_m1", '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "A"}}\n'
                   '{"name": "get_weather", "arguments": {"city": "B"}}\n</tool_calls>', "",
     [{"city": "A"}, {"city": "B"}]),
    ("gigachat_v31", '<|function_call|>{"name": "get_weather", "arguments": {"city": "Paris"}}', "",
     [{"city": "Paris"}]),
    ("deepseek_v31", '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}'
                     '<｜tool▁call▁end｜><｜tool▁calls▁end｜>', "", [{"city": "Paris"}]),
    ("minicpm5", 'Ok. <function name="get_weather"><param name="city">Paris</param></function>', "Ok.",
     [{"city": "Paris"}]),
    ("hunyuan3", "<tool_calls:opensource>\n<tool_call:opensource>get_weather<tool_sep:opensource>\n"
                 "<arg_key:opensource>city</arg_key:opensource>\n<arg_value:opensource>Paris</arg_value:opensource>\n"
                 "</tool_call:opensource>\n</tool_calls:opensource>", "", [{"city": "Paris"}]),
    ("minimax_m3", 'Ok.]<]minimax[>[<tool_call>\n]<]minimax[>[<invoke name="get_weather">]<]minimax[>[<city>Paris'
                   ']<]minimax[>[</city>]<]minimax[>[</invoke>\n]<]minimax[>[</tool_call>', "Ok.", [{"city": "Paris"}]),
    ("muse_glimmer", '<atem:function_calls>\n<atem:invoke name="get_weather">\n<atem:parameter name="city">Paris'
                     '</atem:parameter>\n</atem:invoke>\n</atem:function_calls>', "", [{"city": "Paris"}]),
    ("glm45", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>", "",
     [{"city": "Paris"}]),
]


@pytest.mark.parametrize(("fmt", "reply", "text", "arguments"), READS, ids=[r[0] for r in READS])
def test_each_family_reads_its_calls(fmt: str, reply: str, text: str, arguments: list[dict[str, object]]) -> None:
    parsed = parse_reply(reply, fmt, TOOLS)
    assert parsed.content == text
    assert [(c.name, json.loads(c.arguments)) for c in parsed.calls] == [("get_weather", a) for a in arguments]


@pytest.mark.parametrize(("fmt", "reply", "text", "arguments"), READS, ids=[r[0] for r in READS])
def test_a_call_of_a_tool_not_offered_or_followed_by_text_stays_text(fmt: str, reply: str, text: str,
                                                                     arguments: object) -> None:
    # (llama-server's grammar keeps its models from naming other tools; the older readers in
    # tool_calls.py let such a call through to the tool loop, which answers that there is no such tool)
    unknown = [] if fmt == "glm45" else [reply.replace("get_weather", "get_time")]
    for changed in [*unknown, reply + "\nAnything else?"]:
        parsed = parse_reply(changed, fmt, TOOLS)
        assert parsed.calls == () and parsed.content == changed, changed


def test_code_is_never_run_nor_anything_but_literals_read() -> None:
    for body in ("[get_weather(city=__import__('os').getcwd())]", "[get_weather(city=open('x'))]",
                 "[get_weather('Paris')]", "get_weather(city='Paris')", "[get_weather(**{'city': 'x'})]"):
        reply = f"<|tool_call_start|>{body}<|tool_call_end|>"
        assert parse_reply(reply, "lfm2", TOOLS).calls == (), body


def test_functionary_v32_text_is_read_without_its_channel_name() -> None:
    assert parse_reply("all\nIt is sunny.", "functionary_v32", TOOLS).content == "It is sunny."
    assert parse_reply("all\nIt is sunny.", "functionary_v32", []).content == "all\nIt is sunny."  # no tools: as is
