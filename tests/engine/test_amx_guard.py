"""The AMX fallback: a crash in llama.cpp's AMX code is noticed once, and later loads go without it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app import paths
from app.engine import ChatMessage, Done, Error, LoadOptions, SamplingParams, Token, amx_guard
from app.engine.client import EngineClient
from app.engine.load_params import model_params
from app.engine.protocol import ErrorKind
from app.engine.runtime import LoadedModel

WITH_AMX = "CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 | REPACK = 1 |"
WITHOUT_AMX = "CPU : AVX2 = 1 | AVX512 = 1 | OPENMP = 1 | REPACK = 1 |"


def test_amx_is_read_from_llama_cpps_system_info():
    assert amx_guard.compiled_in(WITH_AMX)
    assert not amx_guard.compiled_in(WITHOUT_AMX)
    assert not amx_guard.compiled_in("")


def test_only_a_crash_signal_during_the_probe_marks_amx_as_faulty(tmp_path: Path):
    tmp_path = tmp_path / "engine"
    tmp_path.mkdir()
    with amx_guard.probe(tmp_path):
        assert (tmp_path / f"amx-probe-{os.getpid()}").exists()
    assert list(tmp_path.iterdir()) == []  # a computation that ends removes its probe

    (tmp_path / "amx-probe-4242").write_text("0\n")
    assert not amx_guard.record_exit(4242, -signal.SIGKILL, tmp_path)  # killed for a hang or at close
    assert list(tmp_path.iterdir()) == [] and not amx_guard.avoid(WITH_AMX, tmp_path)

    assert not amx_guard.record_exit(4343, -signal.SIGSEGV, tmp_path)  # crashed, but not in its first prompt
    assert not amx_guard.avoid(WITH_AMX, tmp_path)


def test_a_process_that_crashes_inside_the_probe_turns_amx_off_for_later_loads(tmp_path: Path):
    tmp_path = tmp_path / "engine"
    tmp_path.mkdir()
    code = ("import os, signal, sys; from pathlib import Path; from app.engine import amx_guard\n"
            "with amx_guard.probe(Path(sys.argv[1])):\n"
            "    os.kill(os.getpid(), signal.SIGSEGV)\n")
    child = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=Path(__file__).parents[2])
    assert child.returncode == -signal.SIGSEGV
    assert len(list(tmp_path.glob("amx-probe-*"))) == 1  # the crash left its probe behind
    pid = int(next(tmp_path.glob("amx-probe-*")).name.removeprefix("amx-probe-"))

    assert amx_guard.record_exit(pid, child.returncode, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["amx-faulted"]
    assert amx_guard.avoid(WITH_AMX, tmp_path)
    assert not amx_guard.avoid(WITHOUT_AMX, tmp_path)  # a build without AMX has nothing to avoid


def test_avoiding_amx_turns_off_llama_cpps_extra_weight_buffers():
    callback = LoadedModel._make_progress_callback(None)
    assert model_params(LoadOptions("m.gguf"), 0, callback).use_extra_bufts is True
    assert model_params(LoadOptions("m.gguf"), 0, callback, extra_buffers=False).use_extra_bufts is False


def test_the_first_prompt_of_an_amx_build_runs_inside_a_probe(tiny_model, monkeypatch):
    probes: list[int] = []

    @contextlib.contextmanager
    def recording_probe(folder=None):
        probes.append(os.getpid())
        yield

    monkeypatch.setattr(amx_guard, "compiled_in", lambda system_info=None: True)
    monkeypatch.setattr(amx_guard, "probe", recording_probe)
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=256, n_threads=1))
    try:
        assert amx_guard.AVOIDED_NOTICE not in model.info.notice
        for _ in range(2):
            model.complete("Hello there", SamplingParams(temperature=0.0, max_tokens=2), lambda text, n: None)
        assert probes == [os.getpid()]  # the first prompt only
    finally:
        model.close()


def test_a_host_where_amx_crashed_loads_without_it_and_says_so(tiny_model, monkeypatch):
    (paths.engine_state_dir() / amx_guard.FAULT_FILE).write_text("worker 1 died of signal 4\n")
    monkeypatch.setattr(amx_guard, "compiled_in", lambda system_info=None: True)
    built: list[bool] = []
    real_model_params = model_params

    def spy(options, gpu_layers, callback, extra_buffers=True):
        built.append(extra_buffers)
        return real_model_params(options, gpu_layers, callback, extra_buffers)

    monkeypatch.setattr("app.engine.runtime.model_params", spy)
    model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=256, n_threads=1))
    try:
        assert built == [False]
        assert amx_guard.AVOIDED_NOTICE in model.info.notice
    finally:
        model.close()


def test_the_client_records_a_worker_that_crashed_in_its_probe(engine, scripted_model):
    engine.load(LoadOptions(str(scripted_model), n_ctx=256))
    folder = paths.engine_state_dir()
    (folder / f"amx-probe-{engine.pid}").write_text("0\n")  # as if it were evaluating its first prompt
    os.kill(engine.pid, signal.SIGSEGV)
    deadline = time.monotonic() + 10
    while not (folder / amx_guard.FAULT_FILE).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in folder.iterdir()] == [amx_guard.FAULT_FILE]
    events = list(engine.chat([ChatMessage("user", "Hi")], SamplingParams(temperature=0.0, max_tokens=8)))
    assert isinstance(events[-1], Done)  # the next message reloads the model and answers


def test_a_reply_lost_to_an_amx_crash_is_sent_again_once(monkeypatch):
    client = EngineClient()
    tries: list[int] = []

    def stream_once(make_request, stop=None):
        tries.append(1)
        if len(tries) == 1:
            yield Error(1, ErrorKind.CRASHED, amx_guard.CRASH_MESSAGE)
            raise AssertionError("the failed try must be closed, not read on")
        yield Token(2, "Paris", 1)
        yield Done(2, None, "Paris")

    monkeypatch.setattr(client, "_stream_once", stream_once)
    events = list(client.chat([]))
    assert [type(e) for e in events] == [Token, Done] and len(tries) == 2
    client.close()


def test_other_crashes_are_reported_not_retried(monkeypatch):
    client = EngineClient()
    tries: list[int] = []

    def stream_once(make_request, stop=None):
        tries.append(1)
        yield Error(1, ErrorKind.CRASHED, "the engine stopped unexpectedly (exit code -11)")

    monkeypatch.setattr(client, "_stream_once", stream_once)
    events = list(client.chat([]))
    assert len(events) == 1 and isinstance(events[0], Error) and len(tries) == 1
    client.close()
