"""Built-in templates: chosen by the vocabulary's control tokens, and each renders a conversation."""

import pytest

from app.engine.builtin_templates import BUILTINS, COMPLETION, END_MARKERS, choose_builtin
from app.engine.chat_template import ChatTemplate
from app.engine.protocol import ChatMessage

CONVERSATION = [ChatMessage("system", "Be brief."), ChatMessage("user", "Capital of France?"),
                ChatMessage("assistant", "Paris."), ChatMessage("user", "And of Italy?")]


@pytest.mark.parametrize("name,marker,template", BUILTINS, ids=[b[0] for b in BUILTINS])
def test_each_family_is_chosen_by_its_marker_and_renders_every_turn(name, marker, template):
    assert choose_builtin(lambda token: token == marker)[0] == name
    text = ChatTemplate(template, "<s>", "</s>", f"builtin:{name}").render(CONVERSATION)
    for message in CONVERSATION[1:]:
        assert message.content in text
    assert text.index("Capital of France?") < text.index("Paris.") < text.index("And of Italy?")
    assert not text.endswith("And of Italy?"), "the generation prompt opens the assistant's turn"


def test_the_most_specific_family_wins_when_a_vocabulary_has_several_markers():
    assert choose_builtin(lambda token: token in ("<|im_start|>", "<start_of_turn>"))[0] == "gemma"


def test_a_vocabulary_without_chat_markers_gets_no_builtin():
    assert choose_builtin(lambda token: False) is None


def test_a_base_model_sees_plain_paragraphs_and_every_family_has_an_end_marker():
    text = ChatTemplate(COMPLETION, "<s>", "</s>", "completion").render(CONVERSATION[:2])
    assert text == "<s>Be brief.\n\nCapital of France?"
    renders = [ChatTemplate(t, "<s>", "</s>").render(CONVERSATION[:3], add_generation_prompt=False)
               for _, _, t in BUILTINS]
    for (name, _, _), text in zip(BUILTINS, renders):
        assert any(marker in text for marker in END_MARKERS) or name == "mistral", name
