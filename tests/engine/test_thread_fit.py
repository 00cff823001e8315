"""Automatic threads: fewer while other programs keep cores busy, back up when they stop."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import llama_cpp
import pytest

from app.engine import thread_fit
from app.engine.protocol import LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.thread_fit import ThreadFit, threads_for


def test_a_core_counts_as_taken_once_others_use_a_third_of_it() -> None:
    assert [threads_for(others, 2) for others in (0.0, 0.2, 0.4, 1.0, 1.6, 2.0)] == [2, 2, 1, 1, 1, 1]
    assert [threads_for(others, 8) for others in (0.0, 1.0, 3.5, 7.9)] == [8, 7, 4, 1]


def test_the_count_is_taken_off_the_logical_cores_not_the_physical_ones() -> None:
    # 4 physical cores, 8 logical: a browser on one core leaves 7, so all 4 threads still run
    assert [threads_for(others, 4, cores=8) for others in (0.0, 1.0, 4.0, 5.0, 7.5)] == [4, 4, 4, 3, 1]


def test_fewer_threads_at_once_and_more_after_a_quiet_sample() -> None:
    fit = ThreadFit(2, adaptive=False)
    fit.cores = 2
    fit.observe(1.0)
    assert fit.threads == 1
    fit.observe(0.1)
    assert fit.threads == 2


def test_an_explicit_thread_count_never_changes(tiny_model: Path) -> None:
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=256, n_threads=2))
    try:
        assert not model.thread_fit.adaptive and model.thread_fit.most == 2
    finally:
        model.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_busy_processes_take_threads_away_from_a_loaded_model(tiny_model: Path, monkeypatch) -> None:
    monkeypatch.setattr(thread_fit, "SAMPLE_SECONDS", 0.05)
    cores = len(thread_fit._cores())
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=256))
    spinners: list[subprocess.Popen] = []
    try:
        fit = model.thread_fit
        assert fit.adaptive
        fit.most = fit.threads = fit.applied = max(cores, 2)  # as many threads as cores, whatever the default
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
        deadline = time.monotonic() + 10
        while fit.threads == fit.most and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fit.threads < fit.most and fit.others > 0.35
        fit.apply(model.ctx)
        assert llama_cpp.llama_n_threads(model.ctx) == fit.threads
    finally:
        for spinner in spinners:
            spinner.kill()
        model.close()


def test_a_prompt_after_a_quiet_spell_gets_a_fresh_look(monkeypatch) -> None:
    clock = {"busy": 0, "own": 0}
    monkeypatch.setattr(thread_fit, "_busy_ticks", lambda cores: clock["busy"])
    monkeypatch.setattr(thread_fit, "_process_ticks", lambda pid="self": clock["own"])
    monkeypatch.setattr(thread_fit, "SAMPLE_SECONDS", 0.02)
    monkeypatch.setattr(thread_fit, "IDLE_SAMPLE_SECONDS", 60.0)  # idle: no look for a minute by itself
    monkeypatch.setattr(thread_fit, "FRESH_SECONDS", 0.02)
    fit = ThreadFit(2, adaptive=True)
    fit.cores = 2
    fit.start()
    try:
        deadline = time.monotonic() + 5
        while not fit._idle and time.monotonic() < deadline:  # the engine used no CPU: it looks rarely now
            time.sleep(0.01)
        assert fit._idle and fit.threads == 2
        start = time.monotonic()
        # another program keeps a whole core busy from now on
        monkeypatch.setattr(thread_fit, "_busy_ticks", lambda cores: int((time.monotonic() - start) * fit._hz) + 1)
        fit.apply(None)  # a prompt starts (the count is unchanged, so llama.cpp is not called)
        deadline = time.monotonic() + 5
        while fit.threads == 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fit.threads == 1
    finally:
        fit.stop()
