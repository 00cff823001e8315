"""Every vendored llama.cpp chat template renders exactly as llama-server rendered it.

Fixtures: tests/fixtures/templates/*.json (see the README there for how they were made).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from app.engine.chat_template import ChatTemplate
from app.engine.protocol import ChatMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "templates"

# Cases where Hearth's rendering is known to differ from llama-server's, and why.
KNOWN_DIFFERENCES: dict[str, str] = {
    "Apertus-8B-Instruct:default": "llama-server turns thinking on by default only for templates its "
    "autoparser recognises as reasoning templates; Hearth always passes enable_thinking=true",
}


def thinking_for(kwargs: dict) -> str:
    if "reasoning_effort" in kwargs:
        return kwargs["reasoning_effort"]
    if "enable_thinking" in kwargs:
        return "on" if kwargs["enable_thinking"] else "off"
    return "default"


def cases():
    for fixture in sorted(FIXTURES.glob("*.json")):
        data = json.loads(fixture.read_text(encoding="utf-8"))
        for name, case in data["cases"].items():
            if "prompt" in case:
                yield pytest.param(fixture.stem, data, case, id=f"{fixture.stem}:{name}")


@pytest.mark.parametrize("stem, data, case", list(cases()))
def test_rendering_matches_llama_server(stem, data, case):
    key = f"{stem}:{thinking_for(case['kwargs'])}"
    if stem in KNOWN_DIFFERENCES or key in KNOWN_DIFFERENCES:
        pytest.xfail(KNOWN_DIFFERENCES.get(key) or KNOWN_DIFFERENCES[stem])
    day = datetime.date.fromisoformat(data["date"])
    clock = lambda: datetime.datetime(day.year, day.month, day.day, 12, 0)  # noqa: E731
    source = (FIXTURES / data["template"]).read_text(encoding="utf-8")
    template = ChatTemplate(source, data["bos_token"], data["eos_token"], clock=clock)
    messages = [ChatMessage(m["role"], m["content"]) for m in case["messages"]]
    rendered = template.render(messages, thinking=thinking_for(case["kwargs"]))
    # llama-server leaves out the leading BOS text: its tokenizer adds the BOS token instead
    # (Hearth tokenizes the BOS text, so the model sees the same ids).
    if data["bos_token"] and rendered.startswith(data["bos_token"]):
        rendered = rendered[len(data["bos_token"]):]
    assert rendered == case["prompt"]


def test_every_template_has_a_fixture():
    assert len(list(FIXTURES.glob("*.json"))) >= 70
