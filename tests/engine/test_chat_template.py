import pytest

from app.engine.chat_template import DEFAULT_TEMPLATE, ChatTemplate, TemplateError
from app.engine.protocol import ChatMessage


def test_gguf_template_renders_with_bos_and_generation_prompt():
    t = ChatTemplate.for_model("{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
                               "{% if add_generation_prompt %}[assistant]{% endif %}", "<s>", "</s>")
    assert t.origin == "gguf"
    assert t.render([ChatMessage("user", "hi")]) == "<s>[user]hi[assistant]"


def test_missing_or_broken_template_falls_back_to_default():
    assert ChatTemplate.for_model(None, "<s>", "</s>").origin == "default"
    broken = ChatTemplate.for_model("{% for %}", "<s>", "</s>")
    assert broken.origin == "default" and broken.source == DEFAULT_TEMPLATE


def test_raise_exception_in_template_is_a_readable_error():
    t = ChatTemplate("{{ raise_exception('roles must alternate') }}")
    with pytest.raises(TemplateError, match="roles must alternate"):
        t.render([ChatMessage("user", "x")])


def test_template_cannot_reach_python_internals():
    t = ChatTemplate("{{ messages.__class__.__mro__ }}")
    with pytest.raises(TemplateError):
        t.render([ChatMessage("user", "x")])


# ---------------------------------------------------------------- llama.cpp parity features

import datetime  # noqa: E402

from app.engine.chat_template import Segment  # noqa: E402

CONVERSATION = [
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello"),
    ChatMessage("user", "Why?"),
]
GEMMA2 = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{{ '<start_of_turn>' + message['role'] + '\n' + message['content'] + "
    "'<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)


def test_break_and_continue_are_available():
    t = ChatTemplate("{% for m in messages %}{% if m.role == 'assistant' %}{% break %}{% endif %}{{ m.content }}"
                     "{% endfor %}")
    assert t.render(CONVERSATION, add_generation_prompt=False) == "Be brief.Hi"


def test_generation_block_renders_its_body():
    t = ChatTemplate("{% for m in messages %}{% generation %}[{{ m.content }}]{% endgeneration %}{% endfor %}")
    assert t.render(CONVERSATION[:2]) == "[Be brief.][Hi]"


def test_date_string_and_strftime_now_come_from_the_clock():
    clock = lambda: datetime.datetime(2026, 11, 23, 9, 30)  # noqa: E731
    t = ChatTemplate("{{ date_string }}|{{ strftime_now('%Y-%m-%d') }}", clock=clock)
    assert t.render(CONVERSATION) == "23 Nov 2026|2026-11-23"


def test_unset_tool_names_are_empty_like_llama_cpp():
    t = ChatTemplate("{% for t in tools %}x{% endfor %}{{ 'a' + functions + 'b' }}{% if documents %}d{% endif %}")
    assert t.render(CONVERSATION) == "ab"


def test_thinking_defaults_on_and_follows_the_switch():
    t = ChatTemplate("{% if enable_thinking %}<think>{% else %}nothink{% endif %}")
    assert t.thinking_modes == ("on", "off")
    assert t.render(CONVERSATION) == "<think>"
    assert t.render(CONVERSATION, thinking="off") == "nothink"
    effort = ChatTemplate("effort={{ reasoning_effort | default('medium') }}")
    assert effort.thinking_modes == ("low", "medium", "high")
    assert effort.render(CONVERSATION, thinking="high") == "effort=high"
    assert ChatTemplate(DEFAULT_TEMPLATE).thinking_modes == ()


def test_past_reasoning_is_given_as_reasoning_content():
    t = ChatTemplate("{% for m in messages %}{{ m.reasoning_content | default('-') }}{% endfor %}")
    msgs = [ChatMessage("user", "q"), ChatMessage("assistant", "a", reasoning="because")]
    assert t.render(msgs) == "-because"


def test_template_refusing_system_gets_it_merged_into_first_user_turn():
    t = ChatTemplate(GEMMA2, "<bos>")
    assert not t.supports_system
    assert t.render(CONVERSATION).startswith("<bos><start_of_turn>user\nBe brief.\nHi<end_of_turn>\n")
    assert ChatTemplate(DEFAULT_TEMPLATE).supports_system


def test_segments_mark_message_contents_as_plain_text():
    t = ChatTemplate(DEFAULT_TEMPLATE)
    msgs = [ChatMessage("user", "<|im_end|>x")]
    segments = t.segments(msgs)
    assert "".join(s.text for s in segments) == t.render(msgs)
    assert Segment("<|im_end|>x", False) in segments
    assert all(s.special for s in segments if s.text != "<|im_end|>x")


def test_segments_fall_back_to_searching_when_a_template_rewrites_contents():
    t = ChatTemplate("{% for m in messages %}<m>{{ m.content | trim }}</m>{% endfor %}")
    msgs = [ChatMessage("user", "  <m>hi ")]
    segments = t.segments(msgs)
    assert "".join(s.text for s in segments) == "<m><m>hi</m>"
    assert Segment("<m>hi", False) in segments
