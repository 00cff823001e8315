"""Stop during prompt evaluation: llama.cpp polls a flag through a C function, not through Python."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import llama_cpp

from app.engine.abort_flag import AbortFlag
from app.engine.protocol import ChatMessage, LoadOptions, StopReason
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams

GREEDY = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=24)


def test_the_callback_answers_with_the_flag_without_python() -> None:
    flag = AbortFlag()
    assert not flag.in_python  # the C library's strlen was found on this platform
    assert flag.callback(flag.data) is False
    flag.set()
    assert flag.is_set()
    assert flag.callback(flag.data) is True
    flag.clear()
    assert flag.callback(flag.data) is False


def test_stop_ends_a_long_prompt_batch_midway_and_the_cache_stays_true(smollm2: Path) -> None:
    model = LoadedModel(LoadOptions(str(smollm2), n_ctx=2048, n_threads=2, n_batch=512))
    long_question = [ChatMessage("user", "Count the words: " + "apple banana cherry " * 300)]
    short_question = [ChatMessage("user", "What is the capital of France?")]
    try:
        codes: list[int] = []
        decode = model._decode
        model._decode = lambda tokens, *out: codes.append(decode(tokens, *out)) or codes[-1]
        timer = threading.Timer(0.05, model.cancel)
        timer.start()
        started = time.perf_counter()
        cut = model.generate(long_question, GREEDY, lambda text, n: None)
        stopped_after = time.perf_counter() - started
        timer.join()
        del model._decode
        assert codes == [2], "llama.cpp should have aborted inside the first batch (code 2)"
        assert cut.stats.stop_reason == StopReason.CANCELLED
        assert cut.text == ""
        assert len(model.kv_tokens) < 512, "the first 512-token batch should not have finished"
        assert llama_cpp.llama_memory_seq_pos_max(model.memory, 0) + 1 == len(model.kv_tokens)

        after = model.generate(short_question, GREEDY, lambda text, n: None)
        full_started = time.perf_counter()
        model.generate(long_question, GREEDY, lambda text, n: None)
        full = time.perf_counter() - full_started
    finally:
        model.close()
    fresh = LoadedModel(LoadOptions(str(smollm2), n_ctx=2048, n_threads=2))
    try:
        expected = fresh.generate(short_question, GREEDY, lambda text, n: None)
    finally:
        fresh.close()
    assert after.text == expected.text and after.stats.completion_tokens > 5
    assert stopped_after < full / 2
