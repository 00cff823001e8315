"""A reply that called tools is one message: its calls and results are parts, saved while it is written,
kept when it finishes or stops, and given to the engine as an API client sends them."""

from __future__ import annotations

import pytest

from app.chat.conversation import Conversation
from app.chat.message import Message, ToolCallPart, ToolResultPart, part_from_row, part_to_row, text_parts
from app.engine.protocol import ChatMessage, Done, Stats, StopReason
from app.engine.sampling import SamplingParams
from app.store import ConversationStore
from app.store.pending_writes import PendingWrites

CALL = ToolCallPart("call_1", "get_weather", '{"city": "Paris"}')
RESULT = ToolResultPart("call_1", "Sunny and 18 °C in Paris.", seconds=0.25)


@pytest.fixture
def raw(tmp_path):
    store = ConversationStore(tmp_path / "chats.db")
    yield store
    store.close()


def test_the_engine_is_given_the_calls_the_results_then_the_answer() -> None:
    reply = Message(0, 0, 1, "assistant", text_parts("It is sunny.", "Let me look.") + (
        CALL, ToolCallPart("call_2", "get_time", "{}"), RESULT, ToolResultPart("call_2", "noon")))
    sent = Conversation.of([Message.plain("user", "Weather?"), reply]).history()
    assert sent == [
        ChatMessage("user", "Weather?"),
        ChatMessage("assistant", "", tool_calls=(("call_1", "get_weather", '{"city": "Paris"}'),
                                                 ("call_2", "get_time", "{}"))),
        ChatMessage("tool", "Sunny and 18 °C in Paris.", tool_call_id="call_1"),
        ChatMessage("tool", "noon", tool_call_id="call_2"),
        ChatMessage("assistant", "It is sunny.", "Let me look."),
    ]
    # a message without results is sent as before (an API client's calls, a tool message)
    assert Message(0, 0, 0, "assistant", (CALL,)).to_engine() == ChatMessage(
        "assistant", "", tool_calls=(("call_1", "get_weather", '{"city": "Paris"}'),))


def test_the_time_taken_is_kept_and_older_results_read_as_unmeasured() -> None:
    assert part_from_row(*part_to_row(RESULT)) == RESULT
    assert part_from_row("tool_result", '{"call_id": "c", "content": "x", "is_error": false}').seconds == 0.0


@pytest.mark.parametrize("ending", ["finish", "stop"])
def test_calls_are_saved_while_written_and_kept_after_a_restart(raw, tmp_path, ending: str) -> None:
    chat = Conversation.create(PendingWrites(raw), sampling=SamplingParams())
    chat.add_user("What is the weather in Paris?")
    reply = chat.begin_reply(3, "weather", chat.sampling)
    reply.parts += [CALL, RESULT]
    reply.add_text("It is sunny", 4)
    assert chat.show_arrived() and chat.messages[-1].tool_calls == (CALL,)
    chat.save_reply(force=True)
    assert raw.messages(chat.chat_id)[-1].parts[-2:] == (CALL, RESULT)  # on disk while it is written
    if ending == "finish":
        chat.finish_reply(Done(3, Stats(completion_tokens=4, stop_reason=StopReason.EOS), "It is sunny."))
    else:
        chat.fail_reply("Stopped.")
    again = Conversation.open(PendingWrites(ConversationStore(tmp_path / "chats.db")), chat.chat_id)
    assert again is not None
    kept = again.messages[-1]
    assert kept.parts[-2:] == (CALL, RESULT) and kept.content.startswith("It is sunny")
    assert again.history()[1:3] == [
        ChatMessage("assistant", "", tool_calls=(("call_1", "get_weather", '{"city": "Paris"}'),)),
        ChatMessage("tool", "Sunny and 18 °C in Paris.", tool_call_id="call_1")]
