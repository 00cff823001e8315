"""DownloadManager runs downloads on BackgroundTasks (its own pool); shutting down pauses them promptly."""

from __future__ import annotations

import time

from app.hub.download_record import saved_downloads
from app.hub.search import list_gguf_files
from app.ui.models.downloads import DownloadManager
from tests.support.fake_hub import TEST_REPO as REPO


def test_shutdown_pauses_a_download_stuck_on_a_silent_server_and_refuses_new_ones(qtbot, fake_hub):
    name = "tiny-chat.Q8_0.gguf"
    choice = next(c for c in list_gguf_files(REPO) if c.name == name)
    fake_hub.stall(name)  # headers, then silence: the read blocks on the socket
    manager = DownloadManager()
    key = manager.start(REPO, choice)
    qtbot.waitUntil(lambda: bool(fake_hub.ranges_seen(name)), timeout=5000)
    started = time.monotonic()
    assert manager.shutdown(1.5) is True  # the download's thread ended
    assert time.monotonic() - started < 1.5
    assert manager.pool.activeThreadCount() == 0
    assert [(r.key, r.status) for r in saved_downloads()] == [(key, "paused")]  # it resumes next time
    assert manager.start(REPO, choice) == ""  # shut down: nothing new starts


def test_a_finished_download_is_reported_on_the_gui_thread(qtbot, fake_hub):
    choice = next(c for c in list_gguf_files(REPO) if c.name == "tiny-chat.Q8_0.gguf")
    manager = DownloadManager()
    with qtbot.waitSignal(manager.download_finished, timeout=10000) as blocker:
        key = manager.start(REPO, choice)
    row = manager.model.rows[manager.model.row_of(key)]
    assert (row.status, row.done_bytes, row.path) == ("done", choice.size, blocker.args[0])
    assert key not in manager.running


def test_the_download_list_passes_the_model_tester_and_shows_status_in_words(qtmodeltester):
    from app.hub.download_record import DownloadRecord, DownloadStatus
    from app.ui.models.downloads import DownloadListModel, DownloadRow

    model = DownloadListModel()
    parts = [{"path": "m-Q4_K_M.gguf", "size": 1000, "sha256": "0" * 64}]
    model.upsert(DownloadRow(DownloadRecord("org/a", "a-Q4_K_M.gguf", "Q4_K_M", parts), DownloadStatus.PAUSED, 250))
    model.upsert(DownloadRow(DownloadRecord("org/b", "b-Q8_0.gguf", "Q8_0", parts), DownloadStatus.DOWNLOADING, 500,
                             speed_bps=2e6, eta_s=3.0))
    qtmodeltester.check(model)
    status_column = model.columnCount() - 1
    assert model.data(model.index(0, status_column)) == "paused"
    key = model.rows[1].key
    model.update(key, status=DownloadStatus.FAILED, message="the disk is full")
    assert model.data(model.index(1, status_column)) == "the disk is full"
    model.remove(key)
    qtmodeltester.check(model)
    assert model.rowCount() == 1
