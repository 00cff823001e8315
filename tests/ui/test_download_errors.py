"""The Downloads list says plainly when the disk is full and when the Hub asks us to wait."""

from __future__ import annotations

import errno

from app.hub import download, download_sink
from app.hub.search import list_gguf_files
from tests.support.fake_hub import TEST_REPO as REPO

STATUS_COLUMN = 5


def q8_choice():
    return next(c for c in list_gguf_files(REPO) if c.name == "tiny-chat.Q8_0.gguf")


def status_text(manager) -> str:
    model = manager.model
    return model.data(model.index(0, STATUS_COLUMN))


def test_a_full_disk_is_shown_in_the_downloads_list(qtbot, window, fake_hub, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download_sink.Sink, "_write", no_space)
    manager = window.downloads
    with qtbot.waitSignal(manager.download_failed, timeout=20000) as blocker:
        manager.start(REPO, q8_choice())
    assert blocker.args[0].startswith("the disk is full: tiny-chat.Q8_0.gguf could not be written")
    assert status_text(manager) == blocker.args[0]


def test_a_retry_after_countdown_is_shown_in_the_downloads_list(qtbot, window, fake_hub, monkeypatch):
    monkeypatch.setattr(download, "MAX_RETRY_AFTER", 0.5)
    fake_hub.fail(429, times=1, path_contains="/resolve/", retry_after=100000)
    manager = window.downloads
    shown: list[str] = []
    manager.model.dataChanged.connect(lambda *_: shown.append(status_text(manager)))
    with qtbot.waitSignal(manager.download_finished, timeout=20000):
        manager.start(REPO, q8_choice())
    assert "the Hub asked us to wait: retrying in 1 s" in shown
    assert status_text(manager) == "done"
