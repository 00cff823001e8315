"""The overflow policies as pure functions (a word is a token here)."""

from app.engine.context import TRUNCATION_MARK, fit_messages, refusal_message, reply_reserve
from app.engine.protocol import ChatMessage, OverflowPolicy


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
