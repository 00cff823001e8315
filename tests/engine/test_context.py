"""The overflow policies as pure functions (a word is a token here)."""

from app.engine.context import TRUNCATION_MARK, fit_messages, refusal_message, reply_reserve
from app.engine.protocol import IMAGE_MARKER, ChatMessage, OverflowPolicy


def words(messages) -> int:
    return sum(len(m.content.split()) + 2 for m in messages)


def chat(n_turns: int) -> list[ChatMessage]:
    messages = [ChatMessage("system", "sys prompt")]
    for i in range(n_turns):
        messages += [ChatMessage("user", f"question {i} " * 3), ChatMessage("assistant", f"answer {i} " * 3)]
    return messages


def test_everything_fits_untouched():
    budget = fit_messages(chat(2), words, 100, OverflowPolicy.TRUNCATE_MIDDLE)
    assert budget.messages == tuple(chat(2)) and budget.dropped_messages == 0


def test_stop_policy_only_reports():
    budget = fit_messages(chat(20), words, 50, OverflowPolicy.STOP)
    assert not budget.fits and budget.dropped_messages == 0 and len(budget.messages) == 41


def test_truncate_middle_keeps_system_and_newest():
    messages = chat(20)
    budget = fit_messages(messages, words, 80, OverflowPolicy.TRUNCATE_MIDDLE)
    assert budget.messages[0] == messages[0]
    assert budget.messages[-1] == messages[-1]
    assert budget.prompt_tokens <= 80 - reply_reserve(80, 0)
    assert budget.dropped_messages == len(messages) - len(budget.messages)


def test_rolling_window_drops_whole_turns():
    messages = chat(20) + [ChatMessage("user", "last one")]
    budget = fit_messages(messages, words, 80, OverflowPolicy.ROLLING_WINDOW)
    assert budget.messages[0].role == "system"
    assert budget.messages[1].role == "user"  # it starts at a turn boundary
    assert budget.dropped_messages % 2 == 0


def test_truncate_middle_cuts_a_single_long_message():
    messages = [ChatMessage("system", "sys"), ChatMessage("user", "word " * 500)]
    budget = fit_messages(messages, lambda ms: sum(len(m.content) // 5 + 1 for m in ms), 100,
                          OverflowPolicy.TRUNCATE_MIDDLE)
    assert budget.truncated
    assert TRUNCATION_MARK in budget.messages[-1].content
    assert budget.prompt_tokens <= 75


def test_rolling_window_refusal_names_the_message_that_is_too_long():
    messages = chat(3) + [ChatMessage("user", "long " * 200)]
    budget = fit_messages(messages, words, 100, OverflowPolicy.ROLLING_WINDOW)
    assert not budget.fits
    text = refusal_message(budget, OverflowPolicy.ROLLING_WINDOW, 100)
    assert text.startswith("the latest user message is too long")
    assert "overflow policy" not in text  # the policy already chosen is not suggested again
    stop = refusal_message(fit_messages(messages, words, 100, OverflowPolicy.STOP), OverflowPolicy.STOP, 100)
    assert "drop older messages" in stop


def with_pictures(messages) -> int:
    """Words, plus 40 tokens for each image (as an encoder counts a picture, whatever the text around it)."""
    text = [m.content.replace(IMAGE_MARKER, " ") for m in messages]
    return sum(len(t.split()) + 2 for t in text) + 40 * sum(len(m.images) for m in messages)


def test_cutting_an_over_long_message_keeps_its_pictures_and_their_markers():
    for content in ["word " * 200 + IMAGE_MARKER, IMAGE_MARKER + "word " * 200,
                    "word " * 100 + IMAGE_MARKER + "word " * 100 + IMAGE_MARKER]:
        last = ChatMessage("user", content, images=(b"png",) * content.count(IMAGE_MARKER))
        budget = fit_messages([ChatMessage("system", "sys"), last], with_pictures, 200,
                              OverflowPolicy.TRUNCATE_MIDDLE)
        kept = budget.messages[-1]
        assert budget.fits and budget.truncated and TRUNCATION_MARK in kept.content
        assert kept.images == last.images  # the pictures go with it ...
        assert kept.content.count(IMAGE_MARKER) == len(last.images)  # ... each in its place, whole
        assert kept.content.count("\ue000") == kept.content.count("\ue001") == len(last.images)
        assert budget.prompt_tokens <= 200 - reply_reserve(200, 0)


def test_a_picture_that_alone_does_not_fit_is_refused_in_one_sentence():
    last = ChatMessage("user", "word " * 50 + IMAGE_MARKER, images=(b"png",))
    budget = fit_messages([last], with_pictures, 30, OverflowPolicy.TRUNCATE_MIDDLE)
    assert not budget.fits and budget.messages[-1].images == (b"png",)
    assert "picture alone" in refusal_message(budget, OverflowPolicy.TRUNCATE_MIDDLE, 30)
