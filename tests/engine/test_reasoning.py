"""The streaming reasoning parser: thinking apart from the answer, however the text is cut."""

from __future__ import annotations

from app.engine.reasoning import ReasoningParser, starts_inside_think


def run(pieces: list[str], prompt: str = "") -> tuple[str, str]:
    parser = ReasoningParser(prompt)
    reasoning, answer = [], []
    for piece in pieces:
        out = parser.feed(piece)
        reasoning.append(out.reasoning)
        answer.append(out.answer)
    out = parser.flush()
    reasoning.append(out.reasoning)
    answer.append(out.answer)
    return "".join(reasoning), "".join(answer)


def every_split(text: str) -> list[list[str]]:
    """The text whole, one character at a time, and cut in two at every position."""
    cuts = [[text], list(text)]
    cuts += [[text[:i], text[i:]] for i in range(1, len(text))]
    cuts += [[text[:i], text[i:j], text[j:]] for i in range(1, len(text)) for j in range(i + 1, len(text), 7)]
    return cuts


THINK_REPLY = "<think>\nThe user greets me.\nI greet back.\n</think>\n\nHello there!"
HARMONY_REPLY = (
    "<|channel|>analysis<|message|>User says hi. Reply politely.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Hi! How can I help?"
)


def test_think_tags_split_anywhere():
    for pieces in every_split(THINK_REPLY):
        assert run(pieces) == ("The user greets me.\nI greet back.", "Hello there!"), pieces


def test_prompt_opened_think_block():
    prompt = "<|im_start|>assistant\n<think>\n"
    for pieces in every_split("Okay, thinking.\n</think>\n\nParis."):
        assert run(pieces, prompt) == ("Okay, thinking.", "Paris."), pieces


def test_harmony_channels_split_anywhere():
    for pieces in every_split(HARMONY_REPLY):
        assert run(pieces, "<|start|>assistant") == ("User says hi. Reply politely.", "Hi! How can I help?"), pieces


def test_gemma4_thought_channel_split_anywhere():
    for pieces in every_split("<|channel>thought\nThe user says hi.<channel|>Hello!"):
        assert run(pieces) == ("The user says hi.", "Hello!"), pieces


def test_gemma4_thought_label_only_at_the_start():
    assert run(["<|channel>", "thoughts on it<channel|>ok"]) == ("thoughts on it", "ok")
    assert run(["<|channel>", "though"]) == ("", "")
    assert run(["<|channel>", "Hm<channel|>ok"]) == ("Hm", "ok")


def test_plain_reply_passes_through_unchanged():
    for pieces in every_split(" Hello <b>world</b> and <thin"):
        assert run(pieces) == ("", " Hello <b>world</b> and <thin"), pieces


def test_reply_that_starts_like_a_tag_is_answer():
    assert run(["<", "thin", "g>"]) == ("", "<thing>")
    assert run(["<|", "im"]) == ("", "<|im")


def test_think_tag_later_in_the_answer_is_text():
    assert run(["Use <think> tags</think> like this"]) == ("", "Use <think> tags</think> like this")


def test_unfinished_thinking_stays_thinking():
    assert run(["<think>still pondering", " more\n"]) == ("still pondering more", "")


def test_empty_think_block_gives_only_the_answer():
    assert run(["<think>\n\n</think>\n\n", "Paris."]) == ("", "Paris.")


def test_whitespace_inside_thinking_is_kept_between_words():
    assert run(["<think>a\n", "\n", "b  ", "</think>c"]) == ("a\n\nb", "c")


def test_prompt_detection():
    assert starts_inside_think("<|im_start|>assistant\n<think>\n")
    assert starts_inside_think("<｜Assistant｜><think>")
    assert not starts_inside_think("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert not starts_inside_think("<|im_start|>assistant\n")


def test_harmony_prompt_that_opened_the_final_channel():
    prompt = "<|start|>assistant<|channel|>final<|message|>"
    assert run(["The answer", " is 4."], prompt) == ("", "The answer is 4.")


def test_harmony_prompt_that_opened_the_analysis_channel():
    prompt = "<|start|>assistant<|channel|>analysis<|message|>"
    reply = "Think.<|end|><|start|>assistant<|channel|>final<|message|>Done."
    assert run(list(reply), prompt) == ("Think.", "Done.")


def test_harmony_two_analysis_messages_become_two_paragraphs():
    reply = (
        "<|channel|>analysis<|message|>First.<|end|><|start|>assistant<|channel|>analysis<|message|>Second.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Answer."
    )
    assert run([reply]) == ("First.\n\nSecond.", "Answer.")


def test_harmony_call_keeps_its_header_as_answer_text():
    """A message to a function is a tool call: its header goes on with its arguments, for the
    gpt-oss call reader, with `<|start|>assistant` put back (llama-server reads it so)."""
    reply = "<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>"
    assert run(list(reply)) == ("", "<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json"
                                    "<|message|>{}")
    thought = "<|channel|>analysis<|message|>Hm.<|end|><|start|>assistant<|channel|>analysis to=functions.f"
    assert run(list(thought + '<|message|>{"a":1}<|call|>')) == (
        "Hm.", '<|start|>assistant<|channel|>analysis to=functions.f<|message|>{"a":1}')


def test_harmony_reply_opening_with_its_recipient_is_a_call():
    prompt = "<|start|>user<|message|>Hi<|end|><|start|>assistant"
    parser = ReasoningParser(prompt)
    out = [parser.feed(c) for c in " to=functions.f<|channel|>commentary json<|message|>{}"] + [parser.flush()]
    assert "".join(o.answer for o in out) == "<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{}"
    parser = ReasoningParser(prompt)  # a plain reply still passes as written
    out = [parser.feed(c) for c in "tomorrow"] + [parser.flush()]
    assert "".join(o.answer for o in out) == "tomorrow"


def test_answer_started_and_thinking_flags():
    parser = ReasoningParser()
    parser.feed("<think>hm")
    assert parser.thinking and not parser.answer_started
    parser.feed("</think>")
    assert not parser.thinking and not parser.answer_started
    out = parser.feed(" Yes")
    assert out.answer == "Yes" and parser.answer_started


def test_deltas_stream_without_waiting_for_the_end():
    parser = ReasoningParser()
    assert parser.feed("<think>abc ").reasoning == "abc"
    assert parser.feed("def</thi").reasoning == " def"
    out = parser.feed("nk>Hi")
    assert (out.reasoning, out.answer) == ("", "Hi")


def test_seed_think_block_split_anywhere():
    reply = "<seed:think>Hm, Paris.</seed:think>It is sunny."
    for size in (1, 3, len(reply)):
        assert run([reply[i:i + size] for i in range(0, len(reply), size)]) == ("Hm, Paris.", "It is sunny.")


def test_minimax_m3_thinks_in_its_own_tags_or_writes_a_bare_close():
    assert run(list("<mm:think>Hm.</mm:think>Sunny.")) == ("Hm.", "Sunny.")
    assert run(list("</mm:think>Sunny.")) == ("", "Sunny.")
