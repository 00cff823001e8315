"""The conversation core without Qt: turns, the reply being written, alternatives, saving, and requests."""

from __future__ import annotations

import pytest

from app.chat.conversation import Conversation
from app.chat.message import Message
from app.engine.protocol import ChatMessage, Done, Error, ErrorKind, Stats, StopReason, Token
from app.engine.sampling import SamplingParams
from app.store import ConversationStore
from app.store.pending_writes import PendingWrites
from tests.support.disks import FullDisk


@pytest.fixture
def raw(tmp_path):
    store = ConversationStore(tmp_path / "chats.db")
    yield store
    store.close()


@pytest.fixture
def store(raw):
    return PendingWrites(raw)


def test_a_turn_is_written_saved_and_read_back_after_a_restart(store, raw, tmp_path):
    chat = Conversation.create(store, sampling=SamplingParams(temperature=0.3), system_prompt="Be brief.")
    chat.add_user("What is the capital of France?")
    assert chat.title == "What is the capital of France?"  # a new chat is named by its first message
    reply = chat.begin_reply(7, "SmolLM2", chat.sampling)
    assert chat.history() == [ChatMessage("system", "Be brief."), ChatMessage("user", "What is the capital of France?")]
    reply.add_reasoning("France… ", 2, now=1.0)
    reply.add_text("Paris", 3)
    assert chat.messages[-1].content == ""  # arrived, not yet shown
    assert chat.show_arrived() and chat.messages[-1].content == "Paris"
    assert chat.messages[-1].reasoning == "France… "
    chat.save_reply(force=True)
    assert raw.messages(chat.chat_id)[-1].content == "Paris"  # on disk while still streaming
    message = chat.finish_reply(Done(7, Stats(completion_tokens=3, stop_reason=StopReason.EOS), "Paris."))
    assert message is not None and message.content == "Paris." and message.complete
    assert message.stats["stop_reason"] == "eos" and chat.reply is None

    again = Conversation.open(PendingWrites(ConversationStore(tmp_path / "chats.db")), chat.chat_id)
    assert again is not None
    assert [(m.role, m.content, m.reasoning) for m in again.messages] == [
        ("user", "What is the capital of France?", ""), ("assistant", "Paris.", "France… ")]
    assert again.sampling.temperature == 0.3 and again.system_prompt == "Be brief."
    assert Conversation.open(store, 999) is None


def test_saving_a_streaming_reply_waits_a_second_unless_forced(store, raw):
    chat = Conversation.create(store)
    chat.add_user("hi")
    reply = chat.begin_reply(1, "m", chat.sampling)
    reply.add_text("a", 1)
    chat.show_arrived()
    chat.save_reply(every=60.0)
    assert raw.messages(chat.chat_id)[-1].content == ""
    chat.save_reply(force=True)
    assert raw.messages(chat.chat_id)[-1].content == "a"


def test_the_model_is_given_finished_messages_only(store):
    chat = Conversation.create(store)
    chat.add_user("one")
    chat.begin_reply(1, "m", chat.sampling)
    chat.fail_reply("Stopped: the engine crashed")  # stopped before any text: not sent again
    chat.add_user("two")
    chat.begin_reply(2, "m", chat.sampling)
    assert chat.history() == [ChatMessage("user", "one"), ChatMessage("user", "two")]
    failed = chat.messages[1]
    assert not failed.complete and failed.error == "Stopped: the engine crashed"


def test_regenerating_adds_an_alternative_and_the_arrows_switch_between_them(store):
    chat = Conversation.create(store)
    chat.add_user("Name a colour.")
    chat.begin_reply(1, "m", chat.sampling)
    chat.finish_reply(Done(1, Stats(), "Red."))
    parent = chat.cut_at(1)  # Regenerate on the reply
    chat.begin_reply(2, "m", chat.sampling, parent)
    chat.finish_reply(Done(2, Stats(), "Blue."))
    assert [m.content for m in chat.messages] == ["Name a colour.", "Blue."]
    assert (chat.messages[1].alternative, chat.messages[1].alternatives) == (2, 2)
    assert chat.show_alternative(chat.messages[1].id, -1)
    assert chat.messages[1].content == "Red." and chat.messages[1].alternative == 1
    assert not chat.show_alternative(chat.messages[1].id, -1)  # no alternative before the first


def test_a_stopped_reply_keeps_what_arrived(store, raw):
    chat = Conversation.create(store)
    chat.add_user("Count to ten.")
    reply = chat.begin_reply(1, "m", chat.sampling)
    reply.add_text("one two", 2)
    kept = chat.fail_reply("Stopped when Hearth was closed.")
    assert kept is not None and kept.content == "one two" and not kept.complete
    stored = raw.messages(chat.chat_id)[-1]
    assert stored.content == "one two" and stored.error == "Stopped when Hearth was closed."


def test_a_full_disk_loses_nothing_and_retry_writes_it(store, raw):
    chat = Conversation.create(store)
    disk = FullDisk(raw)
    disk.fill()
    chat.add_user("written while the disk is full")
    reply = chat.begin_reply(1, "m", chat.sampling)
    reply.add_text("still here", 2)
    chat.finish_reply(Done(1, Stats(), "still here"))
    assert store.problem and [m.content for m in chat.messages] == ["written while the disk is full", "still here"]
    disk.free()
    assert store.retry()
    assert [m.content for m in Conversation.open(store, chat.chat_id).messages] == [
        "written while the disk is full", "still here"]


def test_a_request_is_a_conversation_that_is_not_stored():
    sent = [Message.plain("system", "Be brief."), Message.plain("user", "Hi"), Message.plain("assistant", ""),
            Message.plain("user", "Again")]
    chat = Conversation.of(sent, sampling=SamplingParams(seed=4))
    assert len(chat.history()) == 4  # a request's messages are given as sent, empty ones included
    chat.begin_reply(0, "m", chat.sampling)
    assert chat.take(Token(0, "", 1, reasoning="hmm")) is None
    assert chat.take(Token(0, "Hello", 2)) is None and chat.messages[-1].content == "Hello"
    done = chat.take(Done(0, Stats(completion_tokens=2), "Hello"))
    assert done is not None and (done.content, done.reasoning) == ("Hello", "hmm")
    assert chat.take(Token(0, "late", 3)) is None  # nothing is being written any more

    failing = Conversation.of([Message.plain("user", "Hi")])
    failing.begin_reply(0, "m", failing.sampling)
    failing.take(Token(0, "Hel", 1))
    failed = failing.take(Error(0, ErrorKind.CRASHED, "the engine stopped"))
    assert failed is not None and failed.content == "Hel" and failed.error == "the engine stopped"


def test_a_chat_renamed_before_its_first_message_keeps_its_name(store):
    chat = Conversation.create(store)
    store.update_chat(chat.chat_id, title="Trip planning")  # the sidebar's Rename, through the same writer
    chat.add_user("Where should we go in May?")
    assert chat.title == "Trip planning" and store.chat(chat.chat_id).title == "Trip planning"


def test_attached_parts_follow_the_text_and_are_stored(store, raw):
    from app.chat.message import ImagePart, TextPart

    chat = Conversation.create(store)
    image = ImagePart("f" * 64, "image/png", 4, 4, "dot.png")
    chat.add_user("What is this?", attached=(image,))
    stored = raw.messages(chat.chat_id)[0]
    assert stored.parts == (TextPart("What is this?"), image) and stored.content == "What is this?"
