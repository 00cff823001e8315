"""A tiny model that calls a weather tool, then answers from its result (for the API, CLI and app tests).

Its template is ChatML with Hermes-style calls (`<tool_call>{…}</tool_call>`, so Hearth reads them
as the `hermes` format) and a generation prompt that ends in `<|answer|>` after a tool's result:
the scripted model's reply depends on the prompt's last token alone, so that is how it knows
whether to call the tool or to answer.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.reply_model import write_replies_model

TEMPLATE = """\
{%- if tools %}<|im_start|>system
You can call these tools:
{% for t in tools %}{{ t | tojson }}
{% endfor %}Call one as <tool_call>{"name": …, "arguments": {…}}</tool_call>.<|im_end|>
{% endif %}
{%- for m in messages %}
{%- if m.role == 'tool' %}<|im_start|>tool
{{ m.content }}<|im_end|>
{% elif m.role == 'assistant' and m.tool_calls %}<|im_start|>assistant
{{ m.content }}{% for c in m.tool_calls %}<tool_call>{"name": "{{ c.function.name }}", \
"arguments": {{ c.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>
{% else %}<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|im_start|>assistant' + \
('<|answer|>' if messages[-1].role == 'tool' else '\n') }}{% endif %}"""

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
CALL = {"name": "get_weather", "arguments": {"city": "Paris"}}
ANSWER = "It is sunny and 18 °C in Paris."


def write_weather_model(path: Path) -> Path:
    """Asked anything, it calls get_weather for Paris; given the result, it answers ANSWER."""
    return write_replies_model(path, TEMPLATE, ["<|im_start|>", "<|im_end|>", "<|answer|>"], [
        ("<|im_start|>assistant\n", ["<tool_call>", json.dumps(CALL), "</tool_call>"]),
        ("<|im_start|>assistant<|answer|>", [ANSWER]),
    ])
