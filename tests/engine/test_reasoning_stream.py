"""The engine streams a reasoning model's thinking apart from its answer."""

from __future__ import annotations

import hashlib

from app.engine import ChatMessage, Done, LoadOptions, SamplingParams, Token
from app.engine.protocol import StopReason
from tests.support.tiny_gguf import write_tiny_model

GREEDY = SamplingParams(temperature=0.0, max_tokens=24)


def test_thinking_model_reply_is_split(engine, thinking_model):
    engine.load(LoadOptions(str(thinking_model), n_ctx=256))
    events = list(engine.chat([ChatMessage("user", "Hello")], GREEDY))
    tokens = [e for e in events if isinstance(e, Token)]
    done = events[-1]
    assert isinstance(done, Done)
    assert done.text == "Hello world"
    assert done.reasoning == "the user chat"
    assert "".join(t.text for t in tokens) == done.text
    assert "".join(t.reasoning for t in tokens) == done.reasoning
    assert done.stats.stop_reason == StopReason.EOS
    assert done.stats.completion_tokens == 7
    # <think> the user chat </think>: the answer starts with the sixth token
    assert done.stats.reasoning_tokens == 5
    assert done.stats.reasoning_s > 0
    # once answer text has arrived, no more thinking follows (one batch may carry both)
    first_answer = next(i for i, t in enumerate(tokens) if t.text)
    assert all(not t.reasoning for t in tokens[first_answer + 1:])


def test_history_with_reasoning_is_accepted(engine, thinking_model):
    engine.load(LoadOptions(str(thinking_model), n_ctx=256))
    history = [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello world", "the user chat"),
               ChatMessage("user", "Again")]
    done = list(engine.chat(history, GREEDY, thinking="on"))[-1]
    assert isinstance(done, Done) and done.reasoning == "the user chat"
    assert engine.count(history, thinking="off").prompt_tokens > 0


def test_plain_model_has_no_reasoning(engine, scripted_model):
    engine.load(LoadOptions(str(scripted_model), n_ctx=256))
    done = list(engine.chat([ChatMessage("user", "Hello")], GREEDY))[-1]
    assert done.text == " Hello world" and done.reasoning == ""
    assert done.stats.reasoning_tokens == 0 and done.stats.reasoning_s == 0.0


def test_thinking_option_leaves_other_models_byte_identical(tmp_path, scripted_model):
    again = write_tiny_model(tmp_path / "again.gguf", scripted=True, name="Scripted Tiny", thinking=False)
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    assert digest(again) == digest(scripted_model)


def test_the_stream_hands_over_to_the_plain_path_once_only_answer_can_follow():
    from app.engine.reasoning import ReasoningParser
    from app.engine.worker import ReplyStream

    pieces = ["<th", "ink>", "plan ", "it", "</thi", "nk>", "\n", " Hello", " <think>", " world", "!"]
    sent = []
    stream = ReplyStream(1, ReasoningParser(""), sent.append)
    settled_at = None
    for n, piece in enumerate(pieces, start=1):
        stream.on_text(piece, n)
        if settled_at is None and stream.parser is None:
            settled_at = n
    stream.finish()
    assert "".join(stream.reasoning) == "plan it"
    assert "".join(stream.answer) == "Hello <think> world!"  # a late marker is answer text
    assert settled_at == 8  # right after the first answer text
    assert stream.reasoning_tokens(len(pieces)) == 7
    assert "".join(t.text for t in sent) == "Hello <think> world!"

    plain = ReplyStream(2, ReasoningParser(""), lambda event: None)
    plain.on_text("  Hi", 1)
    assert plain.parser is None and plain.answer == ["  Hi"]  # a reply without thinking keeps its spaces
