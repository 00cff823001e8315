"""Tool-call parity with llama-server (`--jinja`) for the families read by modules of their own
(app/engine/tool_formats_*.py): the same scripted-model check as test_tool_call_parity.py.

A scripted model's next token depends on the current one alone, so a reply may not use one token
twice: where a format repeats a marker (Harmony's `<|channel|>`, `<|message|>`), the second one is
written inside a longer user-defined piece, which prints the same text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import EngineClient
from tests.engine.test_tool_call_parity import binary, check_parity, engine  # noqa: F401 (fixtures)

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


@pytest.mark.parametrize("case", sorted(CASES))
def test_tool_calls_match_llama_server(case: str, binary: Path, engine: EngineClient,  # noqa: F811
                                       tmp_path: Path) -> None:
    name, control, reply, fmt, calls = CASES[case]
    check_parity(name, control, reply, fmt, binary, engine, tmp_path, calls=calls)
