"""End-to-end with real weights: SmolLM2-135M-Instruct Q4_1 (see the `smollm2` fixture)."""

from __future__ import annotations

import pytest

from app.engine import ChatMessage, Done, EngineClient, LoadOptions, SamplingParams
from app.engine.protocol import StopReason

CTX = 512
QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one short sentence.")]


@pytest.fixture(scope="module")
def real_engine(smollm2):
    client = EngineClient()
    info = client.load(LoadOptions(str(smollm2), n_ctx=CTX, n_gpu_layers=0, n_threads=2))
    yield client, info
    client.close()


def ask(client: EngineClient, messages, max_tokens: int) -> Done:
    events = list(client.chat(messages, SamplingParams(temperature=0.0, max_tokens=max_tokens)))
    done = events[-1]
    assert isinstance(done, Done), done
    return done


def test_greedy_capital_of_france_mentions_paris(real_engine):
    client, info = real_engine
    done = ask(client, QUESTION, 24)
    assert "Paris" in done.text
    assert info.chat_template == "gguf"
    assert info.architecture == "llama" and info.n_vocab == 49152


def test_counts_equal_llama_cpp_python_usage(real_engine, smollm2):
    from llama_cpp import Llama

    client, _ = real_engine
    messages = [ChatMessage("system", "Answer in one short sentence."), *QUESTION]
    ours = ask(client, messages, 12)
    llm = Llama(str(smollm2), n_ctx=CTX, n_threads=2, verbose=False)
    try:
        theirs = llm.create_chat_completion(
            [{"role": m.role, "content": m.content} for m in messages], temperature=0.0, max_tokens=12
        )
    finally:
        llm.close()
    assert ours.stats.prompt_tokens == theirs["usage"]["prompt_tokens"]
    assert ours.stats.completion_tokens == theirs["usage"]["completion_tokens"]
    assert ours.text.strip() == theirs["choices"][0]["message"]["content"].strip()


def test_second_turn_reuses_the_first_turns_cache(real_engine):
    client, _ = real_engine
    first = ask(client, QUESTION, 48)
    assert first.stats.stop_reason == StopReason.EOS  # the whole reply is in the cache
    follow_up = [*QUESTION, ChatMessage("assistant", first.text), ChatMessage("user", "And of Italy?")]
    second = ask(client, follow_up, 4)
    assert second.stats.cached_tokens == first.stats.prompt_tokens + first.stats.completion_tokens
    assert second.stats.cached_tokens > 0


def test_library_lists_it_with_the_right_facts(smollm2, hearth_home):
    from app import paths
    from app.library.library import scan_library

    folder = paths.models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / smollm2.name).symlink_to(smollm2)
    [model] = [m for m in scan_library() if m.path.name == smollm2.name]
    assert model.problem == "" and model.info is not None
    info = model.info
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.n_layers == 30
    assert info.size_bytes == 98_362_432
    assert info.has_chat_template and "<|im_start|>" in info.chat_template
    assert "smollm2 135m" in model.name.lower()  # the header's general.name


def test_switching_models_releases_the_first_ones_memory(engine, smollm2, tiny_model):
    psutil = pytest.importorskip("psutil")

    engine.load(LoadOptions(str(smollm2), n_ctx=256, n_gpu_layers=0, use_mmap=False))  # weights in RAM
    process = psutil.Process(engine.pid)
    with_a = process.memory_info().rss
    engine.load(LoadOptions(str(tiny_model), n_ctx=256, n_gpu_layers=0, use_mmap=False))
    with_b = process.memory_info().rss
    assert engine.pid == process.pid  # the same engine process, not a fresh one
    assert with_a - with_b > 70 * 2**20, (with_a >> 20, with_b >> 20)  # SmolLM2's 94 MiB of weights are gone
