""""What if": pick another token of a saved reply and go on from there, a new alternative that survives a restart."""

from __future__ import annotations

import pytest

from app.chat.conversation import Conversation
from app.engine import LoadOptions
from app.engine import protocol as p
from app.engine.sampling import SamplingParams
from app.engine.token_probs import probs_from_json
from app.store import ConversationStore
from app.store.pending_writes import PendingWrites


def write_reply(chat: Conversation, engine, parent=-1):
    sampling = chat.reply_sampling()
    chat.begin_reply(0, "Tiny", sampling, parent)
    for event in engine.chat(chat.history(), sampling):
        if (message := chat.take(event)) is not None:
            return message
    raise AssertionError("the reply never ended")


def test_a_what_if_reply_is_a_saved_alternative_forced_at_the_chosen_token(engine, tiny_model, tmp_path):
    engine.load(LoadOptions(str(tiny_model), n_ctx=512))
    store = PendingWrites(ConversationStore(tmp_path / "chats.db"))
    chat = Conversation.create(store, sampling=SamplingParams(temperature=0, max_tokens=10))
    chat.add_user("Tell me something")
    first = write_reply(chat, engine)
    steps = probs_from_json(first.token_probs.steps)
    assert len(steps) == 10 and first.token_probs.forced_at == -1
    other = steps[3].top[1]  # the second most likely token at the fourth step
    assert other.id != steps[3].chosen.id

    chat.choose_what_if(1, 3, other.id)
    prefix = chat.what_if.prefix
    assert chat.history()[-1] == p.ChatMessage("assistant", prefix, prefill=True)
    second = write_reply(chat, engine, chat.cut_at(1))
    assert chat.what_if is None and chat.history()[-1].role == "assistant" and not chat.history()[-1].prefill
    assert second.content.startswith(prefix) and len(second.content) > len(prefix)
    assert (second.alternative, second.alternatives, second.parent_id) == (2, 2, first.parent_id)
    kept = probs_from_json(second.token_probs.steps)
    assert second.token_probs.forced_at == 3 and kept[3].chosen == other and kept[:3] == steps[:3]
    assert len(kept) == 4 + 10 and b"".join(s.chosen.piece for s in kept).decode(errors="replace") == second.content

    again = Conversation.open(PendingWrites(ConversationStore(tmp_path / "chats.db")), chat.chat_id)
    saved = again.messages[-1]
    assert (saved.content, saved.token_probs, saved.alternative) == (second.content, second.token_probs, 2)
    assert again.show_alternative(saved.id, -1) and again.messages[-1].content == first.content


def test_a_what_if_that_cannot_be_made_says_why(tmp_path):
    store = PendingWrites(ConversationStore(tmp_path / "chats.db"))
    chat = Conversation.create(store)
    chat.add_user("hi")
    with pytest.raises(ValueError, match="kept no token probabilities"):
        chat.choose_what_if(0, 0, 1)
    assert chat.what_if is None
