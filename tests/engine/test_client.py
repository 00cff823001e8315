"""The real engine process with tiny models."""

from __future__ import annotations

import threading

import pytest

from app.engine import ChatMessage, Done, EngineError, Error, LoadOptions, OverflowPolicy, SamplingParams, Token
from app.engine.protocol import ErrorKind, StopReason

GREEDY = SamplingParams(temperature=0.0, max_tokens=24)


def run(engine, messages, sampling=GREEDY, overflow=OverflowPolicy.TRUNCATE_MIDDLE):
    tokens, done = [], None
    for event in engine.chat(messages, sampling, overflow):
        if isinstance(event, Token):
            tokens.append(event)
        elif isinstance(event, (Done, Error)):
            done = event
    return tokens, done


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage("system", "You are terse."), ChatMessage("user", text)]


def test_scripted_model_streams_reply_and_stops_at_eos(engine, scripted_model):
    info = engine.load(LoadOptions(str(scripted_model), n_ctx=256))
    assert info.chat_template == "gguf"
    assert info.n_ctx == 256
    tokens, done = run(engine, user("Hello"))
    assert isinstance(done, Done)
    assert "".join(t.text for t in tokens) == " Hello world" == done.text
    assert done.stats.stop_reason == StopReason.EOS
    assert done.stats.completion_tokens == 2
    assert done.stats.ttft_s > 0


def test_count_equals_tokens_the_model_evaluates(engine, tiny_model):
    engine.load(LoadOptions(str(tiny_model), n_ctx=512))
    history = user("the chat model")
    counted = engine.count(history)
    _, done = run(engine, history)
    assert counted.prompt_tokens == done.stats.prompt_tokens
    # An unsent draft is counted as the next user message would be.
    history2 = history + [ChatMessage("assistant", done.text)]
    with_draft = engine.count(history2, draft="and the token")
    _, done2 = run(engine, history2 + [ChatMessage("user", "and the token")])
    assert with_draft.prompt_tokens == done2.stats.prompt_tokens
    assert with_draft.prompt_tokens > counted.prompt_tokens


def test_kv_cache_reuse_grows_across_turns(engine, tiny_model):
    engine.load(LoadOptions(str(tiny_model), n_ctx=1024))
    history = user("Hello")
    cached = []
    for turn in ("a chat", "the model", "is a token"):
        _, done = run(engine, history)
        assert isinstance(done, Done)
        cached.append(done.stats.cached_tokens)
        # turn N evaluates only what is new: everything before this reply's last token was cached
        history = history + [ChatMessage("assistant", done.text), ChatMessage("user", turn)]
    _, last = run(engine, history)
    assert cached[0] == 0
    assert cached[1] > 0 and cached[2] > cached[1]
    assert last.stats.cached_tokens > cached[2]
    new_tokens = last.stats.prompt_tokens - last.stats.cached_tokens
    assert new_tokens < 20


def test_greedy_is_reproducible_and_seed_fixes_sampling(engine, tiny_model):
    engine.load(LoadOptions(str(tiny_model), n_ctx=512))
    _, a = run(engine, user("Hello"))
    _, b = run(engine, user("world"))
    _, c = run(engine, user("Hello"))
    assert a.text == c.text and a.stats.completion_tokens == c.stats.completion_tokens == 24
    seeded = SamplingParams(temperature=1.0, seed=1234, max_tokens=24)
    _, s1 = run(engine, user("Hello"), seeded)
    _, s2 = run(engine, user("Hello"), seeded)
    assert s1.text == s2.text
    assert b.stats.stop_reason == StopReason.LENGTH


def test_cancel_stops_a_running_reply(engine, tiny_model):
    engine.load(LoadOptions(str(tiny_model), n_ctx=2048))
    events = []
    for event in engine.chat(user("Hello"), SamplingParams(temperature=0.0, max_tokens=0)):
        events.append(event)
        if len(events) == 1:
            threading.Thread(target=engine.cancel).start()
    done = events[-1]
    assert isinstance(done, Done)
    assert done.stats.stop_reason == StopReason.CANCELLED
    assert done.stats.completion_tokens < 2000
    # The engine stays usable and the cache is consistent.
    _, again = run(engine, user("Hello"))
    assert isinstance(again, Done) and again.stats.stop_reason == StopReason.LENGTH


def test_cancel_stops_within_one_token(tiny_model):
    from app.engine.runtime import LoadedModel

    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512))
    try:
        seen = []

        def on_text(text: str, n_tokens: int) -> None:
            seen.append(n_tokens)
            if n_tokens == 3:
                model.cancel()

        result = model.generate(user("Hello"), SamplingParams(temperature=0.0, max_tokens=100), on_text)
        assert result.stats.stop_reason == StopReason.CANCELLED
        assert result.stats.completion_tokens == 3
    finally:
        model.close()


def test_stop_strings_end_the_reply(engine, scripted_model):
    engine.load(LoadOptions(str(scripted_model), n_ctx=256))
    _, done = run(engine, user("Hello"), SamplingParams(temperature=0.0, stop=(" wor",)))
    assert done.text == " Hello"
    assert done.stats.stop_reason == StopReason.STOP


def test_overflow_stop_policy_refuses_with_clear_message(engine, tiny_model):
    n_ctx = engine.load(LoadOptions(str(tiny_model), n_ctx=256)).n_ctx  # llama.cpp pads to 256
    long = user("Hello world " * 120)
    counted = engine.count(long, overflow=OverflowPolicy.STOP)
    assert not counted.fits and counted.prompt_tokens > n_ctx
    _, done = run(engine, long, overflow=OverflowPolicy.STOP)
    assert isinstance(done, Error)
    assert done.kind == ErrorKind.CONTEXT_OVERFLOW
    assert f"context holds {n_ctx}" in done.message


@pytest.mark.parametrize("policy", [OverflowPolicy.TRUNCATE_MIDDLE, OverflowPolicy.ROLLING_WINDOW])
def test_overflow_policies_drop_old_messages(engine, tiny_model, policy):
    n_ctx = engine.load(LoadOptions(str(tiny_model), n_ctx=256)).n_ctx
    history = [ChatMessage("system", "Be brief.")]
    for i in range(14):
        history += [ChatMessage("user", f"the chat {i}"), ChatMessage("assistant", "Hello world and the model")]
    history.append(ChatMessage("user", "Hello"))
    counted = engine.count(history, overflow=policy, max_tokens=16)
    assert counted.untrimmed_tokens > counted.prompt_tokens
    assert counted.dropped_messages > 0
    _, done = run(engine, history, SamplingParams(temperature=0.0, max_tokens=16), policy)
    assert isinstance(done, Done)
    assert done.stats.dropped_messages == counted.dropped_messages
    assert done.stats.prompt_tokens == counted.prompt_tokens
    assert done.stats.prompt_tokens + 16 <= n_ctx
    assert done.stats.prompt_tokens > n_ctx // 2  # it keeps as much history as fits


def test_truncate_middle_cuts_an_over_long_single_message(engine, tiny_model):
    n_ctx = engine.load(LoadOptions(str(tiny_model), n_ctx=256)).n_ctx
    counted = engine.count(user("Hello world " * 150), overflow=OverflowPolicy.TRUNCATE_MIDDLE)
    assert counted.truncated and counted.fits
    assert n_ctx // 2 < counted.prompt_tokens <= n_ctx - n_ctx // 4


def test_generation_reaching_the_context_limit_stops_with_context_full(engine, tiny_model):
    n_ctx = engine.load(LoadOptions(str(tiny_model), n_ctx=256)).n_ctx
    _, done = run(engine, user("Hello"), SamplingParams(temperature=0.0, max_tokens=0))
    assert isinstance(done, Done)
    assert done.stats.stop_reason == StopReason.CONTEXT_FULL
    assert done.stats.prompt_tokens + done.stats.completion_tokens >= n_ctx


def test_model_without_template_gets_the_builtin_matching_its_chat_tokens(engine, no_template_model):
    info = engine.load(LoadOptions(str(no_template_model), n_ctx=256))
    assert info.chat_template == "builtin:chatml"
    assert engine.count(user("Hello")).chat_template == "builtin:chatml"
    _, done = run(engine, user("Hello"))
    assert isinstance(done, Done)


def test_worker_killed_mid_reply_is_reported_and_next_request_recovers(engine, tiny_model):
    engine.load(LoadOptions(str(tiny_model), n_ctx=2048))
    first_pid = engine.pid
    partial = []
    final = None
    for event in engine.chat(user("Hello"), SamplingParams(temperature=0.0, max_tokens=0)):
        if isinstance(event, Token):
            partial.append(event.text)
            if len(partial) == 1:
                engine.kill()
        else:
            final = event
    assert isinstance(final, Error)
    assert final.kind == ErrorKind.CRASHED
    assert "stopped unexpectedly" in final.message
    assert partial  # what streamed before the crash reached the caller
    _, done = run(engine, user("Hello"))  # a fresh worker, with the model loaded again
    assert isinstance(done, Done)
    assert engine.pid != first_pid


@pytest.mark.parametrize(
    "name, kind, words",
    [
        ("not_gguf", ErrorKind.NOT_GGUF, "not a GGUF"),
        ("empty", ErrorKind.NOT_GGUF, "not a GGUF"),
        ("truncated", ErrorKind.TRUNCATED, "incomplete"),
        ("wrong_arch", ErrorKind.UNSUPPORTED, "notarealarch"),
    ],
)
def test_broken_files_give_clear_errors(engine, broken_models, tiny_model, name, kind, words):
    with pytest.raises(EngineError) as caught:
        engine.load(LoadOptions(str(broken_models[name]), n_ctx=256))
    assert caught.value.kind == kind
    assert words in caught.value.message
    # The engine survives and loads a good model next.
    assert engine.load(LoadOptions(str(tiny_model), n_ctx=256)).n_ctx == 256


def test_missing_file_is_reported(engine, tmp_path):
    with pytest.raises(EngineError) as caught:
        engine.load(LoadOptions(str(tmp_path / "nowhere.gguf")))
    assert caught.value.kind == ErrorKind.MISSING_FILE


def test_chat_without_a_model_says_so(engine):
    _, done = run(engine, user("Hello"))
    assert isinstance(done, Error) and done.kind == ErrorKind.NO_MODEL


def test_split_model_loads_from_first_shard(engine, model_dir):
    from tests.support.tiny_gguf import write_tiny_model

    first = write_tiny_model(model_dir / "split-tiny.gguf", scripted=True, split_max_tensors=8)
    assert first.name.endswith("-00001-of-00003.gguf") or "-00001-of-" in first.name
    engine.load(LoadOptions(str(first), n_ctx=128))
    _, done = run(engine, user("Hello"))
    assert done.text == " Hello world"
