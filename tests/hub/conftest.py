"""The local Hub fixtures live in tests/conftest.py (the UI tests use them too)."""

import threading

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
