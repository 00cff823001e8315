"""Saved replies keep their token probabilities (a part of their own), read back after a restart."""

from __future__ import annotations

import random

import pytest

from app.chat.conversation import Conversation
from app.chat.message import TokenProbsPart
from app.engine.protocol import ChatMessage, Done, Stats
from app.engine.token_probs import TokenChoice, TokenProbs, probs_from_json, probs_to_json
from app.store import ConversationStore
from app.store.pending_writes import PendingWrites

WORDS = [" the", " a", " Paris", " city", ",", ".", " of", " and", " is", " France", " capital", "\n"]


def fake_steps(n: int, seed: int = 1) -> tuple[TokenProbs, ...]:
    rng = random.Random(seed)

    def choice() -> TokenChoice:
        token = rng.randrange(len(WORDS))
        return TokenChoice(token * 977, WORDS[token].encode(), -rng.random() * 4)

    return tuple(TokenProbs(choice(), tuple(sorted((choice() for _ in range(5)), key=lambda c: -c.logprob)))
                 for _ in range(n))


def reply_with(chat: Conversation, steps: tuple[TokenProbs, ...]) -> None:
    chat.add_user("What is the capital of France?")
    sampling = chat.reply_sampling()
    chat.begin_reply(3, "SmolLM2", sampling)
    text = "".join(s.chosen.text for s in steps)
    chat.finish_reply(Done(3, Stats(completion_tokens=len(steps)), text, sampling, "", steps))


def test_a_reply_keeps_its_probabilities_after_a_restart_and_never_sends_them(tmp_path):
    store = PendingWrites(ConversationStore(tmp_path / "chats.db"))
    chat = Conversation.create(store)
    assert chat.reply_sampling().top_logprobs == 5  # the setting is on by default
    steps = fake_steps(40)
    reply_with(chat, steps)
    shown = chat.messages[-1]
    assert shown.token_probs is not None and probs_from_json(shown.token_probs.steps) == steps_rounded(steps)
    again = Conversation.open(PendingWrites(ConversationStore(tmp_path / "chats.db")), chat.chat_id)
    assert again is not None
    saved = again.messages[-1]
    assert saved.content == shown.content and saved.complete
    assert saved.token_probs == TokenProbsPart(shown.token_probs.steps)
    assert again.history()[-1] == ChatMessage("assistant", shown.content)
    assert saved.to_openai() == {"role": "assistant", "content": shown.content}


def steps_rounded(steps):
    return probs_from_json(probs_to_json(steps))  # kept to 5 decimals


def test_with_the_setting_off_no_probabilities_are_asked_for_or_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(Conversation, "keep_token_probs", False)
    store = PendingWrites(ConversationStore(tmp_path / "chats.db"))
    chat = Conversation.create(store)
    assert chat.reply_sampling().top_logprobs == -1
    assert Conversation.of([]).reply_sampling().top_logprobs == -1  # the CLI and the API ask for themselves


@pytest.mark.parametrize("n", [1000])
def test_size_on_disk_of_a_1000_token_reply(tmp_path, n):
    sizes = {}
    for keep in (False, True):
        path = tmp_path / f"chats-{keep}.db"
        store = PendingWrites(ConversationStore(path))
        chat = Conversation.create(store)
        steps = fake_steps(n)
        reply_with(chat, steps if keep else ())
        store.close()
        sizes[keep] = path.stat().st_size
    extra = sizes[True] - sizes[False]
    print(f"a {n}-token reply with 5 alternatives per token adds {extra / 1024:.0f} KiB on disk")
    assert 60 * n < extra < 250 * n  # about 160 bytes a token (docs/BENCHMARKS.md)
