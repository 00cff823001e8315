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
