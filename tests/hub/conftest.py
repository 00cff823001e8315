"""Downloads run on threads for the hub tests.

The local Hub fixtures live in tests/conftest.py (the UI tests use them too).
"""

import threading
import time

import pytest

from app.hub.download import Downloader
from app.hub.errors import HubError
from tests.support.fake_hub import TEST_REPO as REPO  # noqa: F401


def run_in_thread(job) -> tuple[threading.Thread, list[HubError]]:
    """Run a Downloader on a thread; its HubError, if any, lands in the list."""
    errors: list[HubError] = []

    def run() -> None:
        try:
            job.run()
        except HubError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


@pytest.fixture
def running():
    """Start a download on a thread; whatever happens, it is cancelled when the test ends (no leak)."""
    started: list[tuple[Downloader, threading.Thread]] = []

    def start(job: Downloader) -> tuple[threading.Thread, list[HubError]]:
        thread, errors = run_in_thread(job)
        started.append((job, thread))
        return thread, errors

    yield start
    for job, thread in started:
        job.cancel()
        thread.join(5)


def wait_until(condition, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)
