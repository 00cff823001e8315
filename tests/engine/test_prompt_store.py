"""Prompts kept in RAM (prompt_store.py): a chat left for another and resumed starts where it stopped.

The journeys run through the engine process (EngineClient), on the one-sequence path (a chat in the
window) and in a batch (`hearth serve --parallel`, or the app's API server beside its chats), with
real SmolLM2 where it is cached. The store's own rules (its bound, which entries it keeps, what a
model whose cache cannot be cut may take back) run on a tiny generated model in this process.
"""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from app.engine import EngineClient
from app.engine import protocol as p
from app.engine.prompt_store import AUTO_MOST_BYTES, MIN_GAIN, PromptStore, budget_bytes
from app.engine.protocol import ChatMessage, LoadOptions, OverflowPolicy
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams
from tests.engine.test_batch_decoding import Reply

GREEDY = SamplingParams(temperature=0.0, max_tokens=12)
RIVERS = [ChatMessage("user", "Tell me about rivers. " + " ".join(f"River {i} flows to the sea." for i in range(40)))]
PEAKS = [ChatMessage("user", "Tell me about mountains. " + " ".join(f"Mountain {i} is tall." for i in range(40)))]


def ask(engine: EngineClient, messages: list[ChatMessage]) -> p.Done:
    reply = Reply()
    engine.start_chat(messages, GREEDY, OverflowPolicy.STOP, "default", reply)
    done = reply.wait()
    assert isinstance(done, p.Done), done
    return done


def resumed(done: p.Done) -> list[ChatMessage]:
    return [*RIVERS, ChatMessage("assistant", done.text), ChatMessage("user", "And the longest one?")]


def journey(engine: EngineClient, detour: bool) -> tuple[p.Done, p.Done]:
    """Rivers, (mountains,) rivers again with a follow-up: the first and last replies."""
    first = ask(engine, RIVERS)
    if detour:
        ask(engine, PEAKS)
    return first, ask(engine, resumed(first))


@pytest.mark.parametrize("parallel", [1, 2], ids=["one sequence", "batch"])
def test_a_chat_resumed_after_another_reads_only_its_new_message(smollm2: Path, parallel: int) -> None:
    options = LoadOptions(str(smollm2), n_ctx=1024 * parallel, n_threads=2, n_parallel=parallel)
    with EngineClient() as engine:
        engine.load(options)
        first, back = journey(engine, detour=True)
    with EngineClient() as engine:
        engine.load(LoadOptions(**{**options.__dict__, "prompt_cache_mib": 0}))
        _, stayed = journey(engine, detour=False)  # the chat never left: its cache is the sequence's own
        _, forgot = journey(engine, detour=True)  # left, and nothing kept it: read again from the start
    new_tokens = back.stats.prompt_tokens - back.stats.cached_tokens
    assert back.stats.prompt_tokens > 300 and new_tokens < 40, back.stats  # only the follow-up was read
    assert back.stats.cached_tokens == stayed.stats.cached_tokens
    assert back.text == stayed.text  # the very cells it left: the reply is the one it would have got
    assert forgot.stats.cached_tokens < 40 < first.stats.prompt_tokens - 300  # only the template's opening is shared


def test_in_a_batch_a_chat_comes_back_into_another_sequence_beside_a_running_reply(smollm2: Path) -> None:
    options = LoadOptions(str(smollm2), n_ctx=2048, n_threads=2, n_parallel=2)
    with EngineClient() as engine:
        engine.load(options)
        first = ask(engine, RIVERS)  # sequence 0
        ask(engine, PEAKS)  # sequence 0 again: the rivers kept in RAM
        running = Reply()  # takes sequence 0 (the mountains kept) and keeps it while the rivers come back
        engine.start_chat([ChatMessage("user", "Count from one to a hundred.")],
                          SamplingParams(temperature=0.0, max_tokens=300), OverflowPolicy.STOP, "default", running)
        assert running.first_token.wait(60)
        back = ask(engine, resumed(first))  # the one free sequence, 1: the cells saved from 0 go there
        assert isinstance(running.wait(), p.Done) and running.end.stats.completion_tokens > back.stats.completion_tokens
    with EngineClient() as engine:
        engine.load(LoadOptions(**{**options.__dict__, "prompt_cache_mib": 0}))
        _, stayed = journey(engine, detour=False)
    assert back.stats.prompt_tokens - back.stats.cached_tokens < 40, back.stats
    assert back.text == stayed.text


def test_a_sliding_window_model_takes_a_chat_back_whole_and_an_earlier_branch_is_read_again() -> None:
    gemma3 = Path.home() / ".cache" / "hearth" / "test-models" / "gemma-3-270m-q4_k_m.gguf"
    if not gemma3.exists():
        pytest.skip(f"{gemma3} (Gemma 3 270M, a 512-token sliding window) is not cached")
    options = LoadOptions(str(gemma3), n_ctx=2048, n_threads=2)
    with EngineClient() as engine:
        engine.load(options)
        first, back = journey(engine, detour=True)
        ask(engine, PEAKS)
        branch = ask(engine, [ChatMessage("user", RIVERS[0].content[:200] + " Which is first?")])
    with EngineClient() as engine:
        engine.load(LoadOptions(**{**options.__dict__, "prompt_cache_mib": 0}))
        _, stayed = journey(engine, detour=False)
    assert back.stats.prompt_tokens - back.stats.cached_tokens < 40 and back.text == stayed.text
    assert branch.stats.cached_tokens < 20  # the kept rivers would have to be cut: not brought back


def test_prompt_cache_zero_means_no_store_and_a_bad_value_is_refused(tiny_model: Path, capsys) -> None:
    from app.cli import main

    assert main(["serve", "--model", str(tiny_model), "--prompt-cache", "-2"]) != 0
    assert "--prompt-cache must be between -1 (automatic), 0 (none)" in capsys.readouterr().err
    assert budget_bytes(0, 8 << 30) == 0 and budget_bytes(100, 0) == 100 << 20
    assert budget_bytes(-1, 8 << 30) == 1 << 30 and budget_bytes(-1, 64 << 30) == AUTO_MOST_BYTES


@pytest.fixture(scope="module")
def tiny(tiny_model: Path):
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=512, n_threads=1))
    yield model
    model.close()


def fill(model: LoadedModel, tokens: list[int]) -> None:
    """Sequence 0 holds `tokens` (as after a prompt was read)."""
    model.kv_tokens.clear()
    model._resync_after_abort(0)
    assert model._evaluate_prompt(tokens, 0, len(tokens)) and model.kv_tokens == tokens


def cells(model: LoadedModel, seq: int = 0) -> int:
    """How many positions sequence `seq` holds in the cache itself (not in its token list)."""
    return int(llama_cpp.llama_memory_seq_pos_max(model.memory, seq)) + 1


def prompt(tag: int, n: int) -> list[int]:
    """`n` token ids beginning with `tag` (1-9): prompts with one tag share their start, others nothing."""
    return [tag] + [(tag * 13 + i) % 200 + 40 for i in range(n - 1)]


def test_the_store_keeps_to_its_bound_dropping_the_least_recently_used(tiny: LoadedModel) -> None:
    fill(tiny, prompt(1, 100))
    one = int(llama_cpp.llama_state_seq_get_size(tiny.ctx, 0))
    store = PromptStore(tiny.ctx, tiny.memory, limit_bytes=2 * one + one // 2, cuttable=True)
    for start in (1, 2, 3):  # three prompts in turn: each new one pushes the last into the store
        fill(tiny, prompt(start, 100))
        store.exchange(0, tiny.kv_tokens, prompt(start + 5, 50))
    kept = sorted(int(e.tokens[0]) for e in store.entries)
    assert kept == [2, 3] and store.size <= store.limit  # the oldest went first
    fill(tiny, prompt(4, 100))
    assert store.exchange(0, tiny.kv_tokens, prompt(2, 120))  # comes back, only the 20 new to read
    assert tiny.kv_tokens == prompt(2, 100) and cells(tiny) == 100 and store.restored == 1
    assert sorted(int(e.tokens[0]) for e in store.entries) == [2, 4]  # the one just used stays


def test_a_prompt_that_goes_on_replaces_its_shorter_self(tiny: LoadedModel) -> None:
    store = PromptStore(tiny.ctx, tiny.memory, limit_bytes=1 << 30, cuttable=True)
    fill(tiny, prompt(1, 60))
    store.exchange(0, tiny.kv_tokens, prompt(5, 40))
    fill(tiny, prompt(1, 90))  # the same chat, gone on
    store.exchange(0, tiny.kv_tokens, prompt(5, 40))
    assert [len(e.tokens) for e in store.entries] == [90]
    fill(tiny, prompt(1, 90))
    store.exchange(0, tiny.kv_tokens, prompt(5, 40))  # already kept: not copied twice
    assert len(store.entries) == 1
    fill(tiny, prompt(5, 10))
    assert not store.exchange(0, tiny.kv_tokens, prompt(1, 12))  # 11 shared: below the gain worth a copy
    assert MIN_GAIN > 11 and store.restored == 0


def test_a_cache_that_cannot_be_cut_takes_an_entry_back_only_whole(tiny: LoadedModel) -> None:
    store = PromptStore(tiny.ctx, tiny.memory, limit_bytes=1 << 30, cuttable=False)  # a sliding window's
    fill(tiny, prompt(1, 100))
    store.exchange(0, tiny.kv_tokens, prompt(5, 40))
    fill(tiny, prompt(5, 40))
    assert not store.exchange(0, tiny.kv_tokens, prompt(1, 80))  # would need the entry cut at 79
    assert store.exchange(0, tiny.kv_tokens, prompt(1, 130))  # goes on from all of it
    assert tiny.kv_tokens == prompt(1, 100) and cells(tiny) == 100
    cuttable = PromptStore(tiny.ctx, tiny.memory, limit_bytes=1 << 30, cuttable=True)
    cuttable.exchange(0, tiny.kv_tokens, prompt(5, 40))
    fill(tiny, prompt(5, 40))
    assert cuttable.exchange(0, tiny.kv_tokens, prompt(1, 80))  # cut at 79 after it comes back


def test_two_chats_in_turn_come_back_each_time_when_the_bound_holds_only_one(tiny: LoadedModel) -> None:
    fill(tiny, prompt(1, 100))
    one = int(llama_cpp.llama_state_seq_get_size(tiny.ctx, 0))
    store = PromptStore(tiny.ctx, tiny.memory, limit_bytes=one + one // 2, cuttable=True)
    fill(tiny, prompt(2, 100))
    store.exchange(0, tiny.kv_tokens, prompt(1, 120))  # keeps chat 2; chat 1 was never kept
    fill(tiny, prompt(1, 100))
    back = []
    for tag in (2, 1, 2, 1):  # each switch keeps the chat leaving, evicting the one coming back, and restores it
        back.append(store.exchange(0, tiny.kv_tokens, prompt(tag, 110)))
        assert tiny.kv_tokens == prompt(tag, 100) and cells(tiny) == 100
    assert back == [True, True, True, True] and len(store.entries) == 1 and store.size <= store.limit


def test_a_restore_that_fails_leaves_the_sequence_empty_and_its_list_too(tiny: LoadedModel) -> None:
    store = PromptStore(tiny.ctx, tiny.memory, limit_bytes=1 << 30, cuttable=True)
    fill(tiny, prompt(1, 100))
    store.exchange(0, tiny.kv_tokens, prompt(5, 40))
    fill(tiny, prompt(5, 40))
    store.entries[0].size //= 2  # a damaged copy: llama.cpp cannot read it back
    assert not store.exchange(0, tiny.kv_tokens, prompt(1, 120))
    assert tiny.kv_tokens == [] and cells(tiny) == 0  # the next prompt is read whole, never half-cached
    assert [e.tokens[0] for e in store.entries] == [5]  # the one that left; the copy that failed is gone
