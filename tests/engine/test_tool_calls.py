"""The tool-call parser without llama-server: formats, the bare-JSON rule and what is never guessed."""

from __future__ import annotations

import json

from app.chat.message import Message, TextPart, ToolCallPart, ToolResultPart
from app.engine.chat_template import ChatTemplate
from app.engine.tool_calls import parse_reply, tool_format
from tests.engine.test_tool_call_parity import TEMPLATES, TOOLS


def calls(text: str, fmt: str) -> list[tuple[str, dict[str, object]]]:
    return [(c.name, json.loads(c.arguments)) for c in parse_reply(text, fmt, TOOLS).calls]


def test_no_tools_offered_means_plain_text() -> None:
    text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    assert parse_reply(text, "hermes", []).calls == ()
    assert parse_reply(text, "hermes", []).content == text


def test_bare_json_call_of_an_offered_tool_whose_arguments_fit() -> None:
    bare = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    assert calls(bare, "") == [("get_weather", {"city": "Paris"})]
    assert calls(" \n" + bare + "\n", "hermes") == [("get_weather", {"city": "Paris"})]
    assert calls('{"name": "get_weather", "parameters": {"city": "Paris", "days": 2}}', "") == [
        ("get_weather", {"city": "Paris", "days": 2})]
    # alone in one ```json fence that is the whole reply (Qwen2.5-Coder 0.5B with several tools offered)
    assert calls("```json\n" + bare + "\n```", "hermes") == [("get_weather", {"city": "Paris"})]
    assert calls("```\n" + bare + "\n```\n", "") == [("get_weather", {"city": "Paris"})]


def test_nothing_else_is_guessed() -> None:
    for text in (
        'Sure: {"name": "get_weather", "arguments": {"city": "Paris"}}',  # text around it
        '{"name": "get_time", "arguments": {"city": "Paris"}}',  # a tool that was not offered
        '{"name": "get_weather", "arguments": {"town": "Paris"}}',  # a property the schema lacks
        '{"name": "get_weather", "arguments": {}}',  # the required city missing
        '{"name": "get_weather", "arguments": {"city": 7}}',  # a number where a string is declared
        '{"name": "get_weather", "arguments": {"city": "Paris"}, "why": "asked"}',  # more than a call
        '[{"name": "get_weather", "arguments": {"city": "Paris"}}]',  # not one object
        'Here:\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',  # text beside the fence
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n```json\n{}\n```',  # two fences
    ):
        reply = parse_reply(text, "", TOOLS)
        assert reply.calls == () and reply.content == text, text


def test_a_broken_call_stays_text() -> None:
    text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": \n</tool_call>'
    assert parse_reply(text, "hermes", TOOLS).content == text


def test_an_unfinished_last_block_is_still_read() -> None:
    # the model stopped on its end token right after the JSON
    assert calls('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n', "hermes") == [
        ("get_weather", {"city": "Oslo"})]


def test_qwen3_coder_values_follow_the_schema() -> None:
    text = ("<tool_call>\n<function=get_weather>\n<parameter=city>\n42\n</parameter>\n"
            "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>")
    assert calls(text, "qwen3_coder") == [("get_weather", {"city": "42", "days": 3})]


def test_formats_are_chosen_from_the_template_source() -> None:
    expected = {"Qwen-Qwen2.5-7B-Instruct": "hermes", "Qwen-Qwen3-0.6B": "hermes", "Qwen3-Coder": "qwen3_coder",
                "meta-llama-Llama-3.1-8B-Instruct": "llama3", "mistralai-Mistral-Nemo-Instruct-2407": "mistral",
                "CohereForAI-c4ai-command-r7b-12-2024-tool_use": "command_r7b",
                "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": "deepseek_r1", "google-gemma-2-2b-it": ""}
    for name, fmt in expected.items():
        assert tool_format((TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")) == fmt, name


def test_a_call_and_its_result_go_back_through_the_template() -> None:
    source = (TEMPLATES / "Qwen-Qwen2.5-7B-Instruct.jinja").read_text(encoding="utf-8")
    template = ChatTemplate(source, "<s>", "</s>", "file")
    call = Message(0, 0, 0, "assistant", (TextPart(""), ToolCallPart("c1", "get_weather", '{"city": "Paris"}')))
    result = Message(0, 0, 0, "tool", (ToolResultPart("c1", "18 °C, sunny"),))
    history = [Message.plain("user", "Weather in Paris?").to_engine(), call.to_engine(), result.to_engine()]
    prompt = template.render(history, tools=TOOLS)
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' in prompt
    assert "<tool_response>\n18 °C, sunny\n</tool_response>" in prompt
    assert '"description": "The weather in a city"' in prompt  # schemas as written, keys unsorted
    assert template.render(history[:1]).count("get_weather") == 0  # no tools: none described


def test_llama3_reads_only_its_parameters_shape_and_guesses_nothing() -> None:
    """llama-server reads Llama 3.x calls only as {"name", "parameters"}; anything else is the bare-JSON
    rule's (an offered tool whose arguments fit) or text: arguments are never dropped, calls never invented."""
    assert calls('{"name": "get_weather", "parameters": {"city": "Paris"}}', "llama3") == [
        ("get_weather", {"city": "Paris"})]
    assert calls('<|python_tag|>{"name": "get_weather", "parameters": {"city": "Rome"}}', "llama3") == [
        ("get_weather", {"city": "Rome"})]
    assert calls('{"name": "get_weather", "arguments": {"city": "Paris"}}', "llama3") == [
        ("get_weather", {"city": "Paris"})]  # the other shape keeps its arguments (bare-JSON rule)
    for text in ('{"name": "Bob", "age": 3}', '{"name": "get_weather"}', '{"name": "get_weather", "city": "Paris"}',
                 '{"name": "get_time", "arguments": {"city": "Paris"}}'):
        reply = parse_reply(text, "llama3", TOOLS)
        assert reply.calls == () and reply.content == text, text


def test_an_integral_number_is_an_integer_as_json_schema_says() -> None:
    assert calls('{"name": "get_weather", "arguments": {"city": "Paris", "days": 2.0}}', "") == [
        ("get_weather", {"city": "Paris", "days": 2.0})]
    for text in ('{"name": "get_weather", "arguments": {"city": "Paris", "days": 2.5}}',
                 '{"name": "get_weather", "arguments": {"city": "Paris", "days": true}}'):
        assert parse_reply(text, "", TOOLS).calls == (), text


def test_gpt_oss_reads_one_call_of_an_offered_tool() -> None:
    call = ('<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>'
            '{"city":"Oslo"}')
    assert calls(call, "gpt_oss") == [("get_weather", {"city": "Oslo"})]
    assert parse_reply("Checking." + call + "<|call|>", "gpt_oss", TOOLS).content == "Checking."
    role = '<|start|>assistant to=functions.get_weather<|channel|>analysis json<|message|>{"city":"Oslo"}'
    assert calls(role, "gpt_oss") == [("get_weather", {"city": "Oslo"})]
    for text in (call.replace("get_weather", "get_time"),  # not offered (llama-server answers an error)
                 call.replace('{"city":"Oslo"}', '["Oslo"]'),  # not an object
                 call + " and more",  # text after the call
                 '<|start|>assistant to=functions.get_weather<|channel|>commentary to=functions.get_weather'
                 '<|message|>{"city":"Oslo"}'):  # two recipients
        reply = parse_reply(text, "gpt_oss", TOOLS)
        assert reply.calls == () and reply.content == text, text
