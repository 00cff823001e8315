"""The AMX fallback: a crash in llama.cpp's AMX code is noticed once, and later loads go without it."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import hardware, paths
from app.engine import ChatMessage, Done, Error, LoadOptions, OverflowPolicy, SamplingParams, amx_guard, load_params
from app.engine.load_params import model_params
from app.engine.runtime import LoadedModel

WITH_AMX = "CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 | REPACK = 1 |"
WITHOUT_AMX = "CPU : AVX2 = 1 | AVX512 = 1 | OPENMP = 1 | REPACK = 1 |"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "engine"
    path.mkdir()
    return path


@pytest.fixture
def amx_build(monkeypatch):
    """This process's llama.cpp reports AMX, on a CPU that has it."""
    monkeypatch.setattr(hardware, "system_info", lambda: WITH_AMX)
    monkeypatch.setattr(amx_guard, "cpu_has_amx", lambda: True)


def test_amx_is_read_from_llama_cpps_system_info_and_the_cpu_flags(tmp_path: Path):
    assert amx_guard.compiled_in(WITH_AMX)
    assert not amx_guard.compiled_in(WITHOUT_AMX)
    assert not amx_guard.compiled_in("")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_int8 amx_tile\n")
    assert amx_guard.cpu_has_amx(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2\n")
    assert not amx_guard.cpu_has_amx(cpuinfo)
    assert amx_guard.cpu_has_amx(tmp_path / "missing")  # cannot tell: assume it may


def test_only_a_crash_signal_during_the_probe_marks_amx_as_faulty(folder: Path, amx_build):
    with amx_guard.probe(folder):
        assert (folder / f"amx-probe-{os.getpid()}").read_text() == amx_guard.build_id()
    assert list(folder.iterdir()) == []  # a computation that ends removes its probe

    (folder / "amx-probe-4242").write_text(amx_guard.build_id())
    assert not amx_guard.record_exit(4242, None, folder)  # still running: the probe stays
    assert not amx_guard.record_exit(4242, -signal.SIGKILL, folder)  # killed for a hang or at close
    assert list(folder.iterdir()) == []

    (folder / "amx-probe-4242").write_text(amx_guard.build_id())
    assert not amx_guard.record_exit(4242, -signal.SIGBUS, folder)  # a model file cut short under its map
    assert not amx_guard.record_exit(4343, -signal.SIGSEGV, folder)  # crashed, but not in its first prompt
    assert not amx_guard.avoid(folder=folder)

    (folder / "amx-probe-4444").write_text(amx_guard.build_id())
    amx_guard.forget_probe(4444, folder)  # a new worker that got an old pid
    assert list(folder.iterdir()) == []


def test_a_process_that_crashes_inside_the_probe_turns_amx_off_for_that_build(folder: Path, monkeypatch):
    code = ("import os, signal, sys; from pathlib import Path; from app import hardware; "
            "from app.engine import amx_guard\n"
            f"hardware.system_info = lambda: {WITH_AMX!r}\n"
            "with amx_guard.probe(Path(sys.argv[1])):\n"
            "    os.kill(os.getpid(), signal.SIGSEGV)\n")
    child = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=Path(__file__).parents[2])
    assert child.returncode == -signal.SIGSEGV
    probes = list(folder.glob("amx-probe-*"))
    assert len(probes) == 1  # the crash left its probe behind
    pid = int(probes[0].name.removeprefix("amx-probe-"))

    assert amx_guard.record_exit(pid, child.returncode, folder)
    assert [p.name for p in folder.iterdir()] == ["amx-faulted"]
    assert amx_guard.avoid(WITH_AMX, folder)
    assert not amx_guard.avoid(WITHOUT_AMX, folder)  # a build without AMX has nothing to avoid
    assert not amx_guard.avoid(WITH_AMX.replace("OPENMP", "OPENMP = 1 | KLEIDIAI"), folder)  # another build
    monkeypatch.setattr(amx_guard.metadata, "version", lambda name: "9.9.9")
    assert not amx_guard.avoid(WITH_AMX, folder)  # an upgrade starts afresh


def test_avoiding_amx_turns_off_llama_cpps_extra_weight_buffers():
    callback = load_params.progress_callback(None)
    assert model_params(LoadOptions("m.gguf"), 0, callback).use_extra_bufts is True
    assert model_params(LoadOptions("m.gguf"), 0, callback, extra_buffers=False).use_extra_bufts is False


def test_the_first_prompt_of_an_amx_build_runs_inside_a_probe(tiny_model, monkeypatch, amx_build):
    probes: list[int] = []

    @contextlib.contextmanager
    def recording_probe(folder=None):
        probes.append(os.getpid())
        yield

    monkeypatch.setattr(amx_guard, "probe", recording_probe)
    for weights_in_amx, expected in ((False, []), (True, [os.getpid()])):
        monkeypatch.setattr("app.engine.runtime.amx_weights_loaded", lambda forget=False, loaded=weights_in_amx: loaded)
        probes.clear()
        model = LoadedModel(LoadOptions(str(tiny_model), n_ctx=256, n_threads=1))
        try:
            assert amx_guard.AVOIDED_NOTICE not in model.info.notice
            for _ in range(2):
                model.complete("Hello there", SamplingParams(temperature=0.0, max_tokens=2), lambda text, n: None)
            assert probes == expected  # the first prompt only, and only with weights in the AMX buffer
        finally:
            model.close()


def test_llama_cpps_log_says_when_weights_went_to_the_amx_buffer():
    from app.engine import llama_backend

    llama_backend.amx_weights_loaded(forget=True)
    llama_backend._log_callback(2, b"load_tensors:          CPU model buffer size =    50.00 MiB\n", None)
    assert not llama_backend.amx_weights_loaded()
    llama_backend._log_callback(2, b"load_tensors:          AMX model buffer size =    50.00 MiB\n", None)
    assert llama_backend.amx_weights_loaded(forget=True)
    assert not llama_backend.amx_weights_loaded()


def test_llama_cpps_errors_and_warnings_are_kept_for_messages():
    from app.engine import llama_backend

    llama_backend.last_log()
    llama_backend._log_callback(4, b"llama_model_load: error loading model: tensor 'x' is corrupted\n", None)
    llama_backend._log_callback(2, b"llm_load_print_meta: an info line\n", None)
    assert llama_backend.last_log() == "llama_model_load: error loading model: tensor 'x' is corrupted"


def test_a_host_where_amx_crashed_loads_without_it_and_says_so(tiny_model, monkeypatch, amx_build):
    (paths.engine_state_dir() / amx_guard.FAULT_FILE).write_text(amx_guard.build_id())
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


def test_a_worker_that_crashes_in_its_probe_is_recorded_and_the_reply_sent_again(engine, scripted_model):
    """End to end with a real worker: it dies of SIGSEGV holding a probe before it reads the chat."""
    engine.load(LoadOptions(str(scripted_model), n_ctx=256))
    folder = paths.engine_state_dir()
    pid = engine.pid
    os.kill(pid, signal.SIGSTOP)  # the chat request waits in the pipe
    events: list = []
    reply = threading.Thread(target=lambda: events.extend(
        engine.chat([ChatMessage("user", "Hi")], SamplingParams(temperature=0.0, max_tokens=8))))
    reply.start()
    deadline = time.monotonic() + 10
    while not engine.pending and time.monotonic() < deadline:  # the request is in the pipe
        time.sleep(0.01)
    resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))  # no core file from the crash
    (folder / f"amx-probe-{pid}").write_text("llama-cpp-python test: AMX_INT8 = 1\n")
    os.kill(pid, signal.SIGSEGV)  # delivered when it runs again, before it reads anything
    os.kill(pid, signal.SIGCONT)
    reply.join(timeout=60)
    assert not reply.is_alive()
    assert isinstance(events[-1], Done) and events[-1].text == " Hello world"
    assert not any(isinstance(e, Error) for e in events)  # the user never saw the crash
    assert engine.crashes == 1 and engine.pid != pid
    assert (folder / amx_guard.FAULT_FILE).read_text() == "llama-cpp-python test: AMX_INT8 = 1\n"


def test_a_reply_lost_to_an_amx_crash_keeps_its_job_id(engine, scripted_model):
    """The reply is sent again under the same id: the caller's job never sees the crash."""
    engine.load(LoadOptions(str(scripted_model), n_ctx=256))
    folder = paths.engine_state_dir()
    pid = engine.pid
    os.kill(pid, signal.SIGSTOP)
    events: list = []
    done = threading.Event()

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, (Done, Error)):
            done.set()

    job_id = engine.start_chat([ChatMessage("user", "Hi")], SamplingParams(temperature=0.0, max_tokens=8),
                               OverflowPolicy.TRUNCATE_MIDDLE, "default", on_event)
    resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    (folder / f"amx-probe-{pid}").write_text("llama-cpp-python test: AMX_INT8 = 1\n")
    os.kill(pid, signal.SIGSEGV)
    os.kill(pid, signal.SIGCONT)
    assert done.wait(60)
    assert {e.id for e in events} == {job_id} and isinstance(events[-1], Done)
