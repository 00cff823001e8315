"""The meter of an empty chat with tools on: the schemas' cost shows before the first message, also with
a template that reads messages[0] when it is given tools (Qwen 2.5's does), which fails on no messages."""

from __future__ import annotations

import json

from app.engine import LoadOptions
from app.engine import protocol as p
from app.engine.jobs import wait_for

READS_FIRST = ("{% if tools %}{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% endif %}"
               "Tools: {{ tools | tojson }}\n{% endif %}"
               "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endfor %}")
TOOLS = json.dumps([{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])


def test_an_empty_chat_with_tools_counts_their_schemas(engine, tiny_model, tmp_path):
    template = tmp_path / "reads-first.jinja"
    template.write_text(READS_FIRST, encoding="utf-8")
    engine.load(LoadOptions(str(tiny_model), n_ctx=512, chat_template_file=str(template)))

    def count(messages, tools: str = "") -> p.CountResult:
        return wait_for(lambda sink: engine.start_count(messages, "", p.OverflowPolicy.TRUNCATE_MIDDLE, 0,
                                                        "default", sink, tools=tools), p.Counted).result

    empty = count([], TOOLS)
    framed = count([p.ChatMessage("user", "")], TOOLS)
    assert empty.prompt_tokens == framed.prompt_tokens > 20  # the schemas, and the first message's frame
    assert count([]).prompt_tokens < empty.prompt_tokens  # without tools: no schemas (and no messages[0])
