"""Hearth's log file: where it is, what goes in (loads, errors, downloads), what never does (chat text)."""

from __future__ import annotations

import logging
import logging.handlers
import subprocess
import sys

import pytest

from app import logs, paths
from app.engine import EngineError, LoadOptions
from app.engine.protocol import ChatMessage
from app.engine.sampling import SamplingParams
from app.hub.download import Downloader
from app.hub.download_record import DownloadRecord
from app.hub.errors import HubError
from app.hub.search import list_gguf_files
from tests.conftest import REPO

SECRET = "my neighbour's alarm code is 4471"


@pytest.fixture
def log_file():
    path = logs.setup()
    yield path
    logs.stop()


def test_the_log_file_is_in_the_documented_folder(log_file):
    assert log_file == paths.log_dir() / "hearth.log"
    logging.getLogger("app.test").info("hello from the test")
    assert "INFO" in log_file.read_text() and "app.test: hello from the test" in log_file.read_text()


def test_a_failed_load_a_load_a_reply_and_downloads_are_logged_without_the_message_text(
        log_file, engine, broken_models, scripted_model, fake_hub):
    with pytest.raises(EngineError):
        engine.load(LoadOptions(path=str(broken_models["not_gguf"])))
    engine.load(LoadOptions(path=str(scripted_model), n_ctx=512))
    events = list(engine.chat([ChatMessage("user", SECRET)], SamplingParams(temperature=0)))
    assert events[-1].text.strip() == "Hello world"
    choice = next(c for c in list_gguf_files(REPO) if c.name == "tiny-chat.Q8_0.gguf")
    Downloader(DownloadRecord.for_choice(REPO, choice), retry_backoff=0.01).run()
    text = log_file.read_text()
    assert "could not load not-a-model.gguf" in text and "not_gguf" in text
    assert "loaded tiny-scripted.gguf in " in text and "n_ctx=512" in text
    assert f"download started: {REPO} tiny-chat.Q8_0.gguf" in text
    assert f"download finished: {REPO} tiny-chat.Q8_0.gguf" in text
    assert SECRET not in text and "alarm" not in text and "Hello world" not in text


def test_a_failed_download_is_logged_as_an_error(log_file, fake_hub):
    choice = next(c for c in list_gguf_files(REPO) if c.name == "tiny-chat.Q8_0.gguf")
    fake_hub.corrupt("tiny-chat.Q8_0.gguf", at=1000)
    with pytest.raises(HubError):
        Downloader(DownloadRecord.for_choice(REPO, choice), retry_backoff=0.01).run()
    [error] = logs.recent_errors()
    assert f"download failed: {REPO} tiny-chat.Q8_0.gguf" in error and "corrupt" in error


def test_an_error_inside_the_engine_process_reaches_the_log_with_its_traceback(log_file, engine, scripted_model):
    with pytest.raises(EngineError) as caught:
        engine.load(LoadOptions(path=str(scripted_model), flash_attn="sometimes"))  # not a value the engine knows
    assert caught.value.message == "KeyError: 'sometimes'"
    [error] = logs.recent_errors()
    assert "could not load tiny-scripted.gguf" in error and "internal: KeyError: 'sometimes'" in error
    assert "in the engine process:" in error and "Traceback (most recent call last)" in error
    assert "load_params.py" in error  # the frame in the engine process where it went wrong


def test_recent_errors_are_the_last_ones_each_with_its_traceback(log_file):
    log = logging.getLogger("app.test")
    for number in range(7):
        try:
            raise ValueError(f"problem {number}")
        except ValueError:
            log.exception("step %d failed", number)
        log.info("between the errors")
    errors = logs.recent_errors(limit=3)
    assert [e.splitlines()[0].split(": ", 1)[1] for e in errors] == ["step 4 failed", "step 5 failed",
                                                                     "step 6 failed"]
    assert all("Traceback" in e and "ValueError: problem" in e and "between" not in e for e in errors)


def test_errors_just_before_a_rotation_are_still_copied(log_file):
    log = logging.getLogger("app.test")
    log.error("the load failed just now")
    handlers = [h for h in logging.getLogger().handlers + logging.getLogger("app").handlers
                if isinstance(h, logging.handlers.RotatingFileHandler)]
    handlers[0].doRollover()  # the file reached its size: its lines move to hearth.log.1
    log.info("a new file begins")
    assert [e.split(": ", 1)[1] for e in logs.recent_errors()] == ["the load failed just now"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_uncaught_exception_in_a_thread_is_logged(log_file):
    import threading

    def broken() -> None:
        raise RuntimeError("a thread fell over")

    thread = threading.Thread(target=broken, name="falls-over")
    thread.start()
    thread.join()
    [error] = logs.recent_errors()
    assert "uncaught RuntimeError in thread falls-over" in error and "a thread fell over" in error


def test_the_cli_writes_the_log(hearth_home, scripted_model):
    done = subprocess.run([sys.executable, "-m", "app", "chat", "--model", str(scripted_model), "--temperature",
                           "0", SECRET], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (hearth_home / "logs" / "hearth.log").read_text()
    assert "loaded tiny-scripted.gguf in " in text and SECRET not in text and "Hello world" not in text


def test_quitting_during_a_load_is_not_logged_as_an_error(log_file, scripted_model, qtbot):
    import os
    import signal
    import threading

    from app.engine import EngineClient

    client = EngineClient()
    client.start()
    os.kill(client.pid, signal.SIGSTOP)  # the load cannot finish before the quit
    failures: list[EngineError] = []

    def load() -> None:
        try:
            client.load(LoadOptions(path=str(scripted_model)))
        except EngineError as exc:
            failures.append(exc)

    thread = threading.Thread(target=load)
    thread.start()
    qtbot.waitUntil(lambda: bool(client.pending), timeout=5000)  # the load was sent
    client.close()
    thread.join(10)
    assert failures and failures[0].kind == "crashed"
    assert logs.recent_errors() == []
    assert "the load of tiny-scripted.gguf stopped: the engine was shut down" in log_file.read_text()
