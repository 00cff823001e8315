"""BackgroundTasks: results and errors come back on the GUI thread, counted, and quitting drops them."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread, QThreadPool

from app.ui.tasks import BackgroundTasks


def test_success_runs_on_the_gui_thread_with_the_result(qtbot):
    tasks = BackgroundTasks(QThreadPool())
    seen: list[tuple[int, bool]] = []
    worker_threads: list[bool] = []

    def job() -> int:
        worker_threads.append(QThread.currentThread() is qtbot_main)
        return 42

    qtbot_main = QThread.currentThread()
    tasks.run(job, lambda value: seen.append((value, QThread.currentThread() is qtbot_main)))
    assert tasks.running == 1
    with qtbot.waitSignal(tasks.idle, timeout=5000):
        pass
    assert seen == [(42, True)]
    assert worker_threads == [False]
    assert tasks.running == 0


def test_failure_goes_to_on_failure_only(qtbot):
    tasks = BackgroundTasks(QThreadPool())
    successes: list[object] = []
    failures: list[Exception] = []

    def job() -> None:
        raise ValueError("bad header")

    with qtbot.waitSignal(tasks.idle, timeout=5000):
        tasks.run(job, successes.append, failures.append)
    assert successes == []
    assert [str(e) for e in failures] == ["bad header"]


def test_an_error_without_on_failure_is_reported_by_signal(qtbot):
    tasks = BackgroundTasks(QThreadPool())

    def job() -> None:
        raise OSError("disk gone")

    with qtbot.waitSignal(tasks.failed, timeout=5000) as blocker:
        tasks.run(job, lambda _r: None)
    assert isinstance(blocker.args[0], OSError)


def test_shutdown_asks_jobs_to_stop_and_drops_their_callbacks(qtbot):
    tasks = BackgroundTasks(QThreadPool())
    started = threading.Event()
    seen: list[object] = []

    def long_scan() -> str:
        started.set()
        while not tasks.cancel_requested():
            threading.Event().wait(0.01)
        return "stopped early"

    tasks.run(long_scan, seen.append, seen.append)
    assert started.wait(5)
    assert tasks.shutdown(2.0) is True
    qtbot.wait(50)  # let a queued callback arrive, if one were still delivered
    assert seen == []
    tasks.run(lambda: 1, seen.append)  # closed: nothing more starts
    assert tasks.running == 0


def test_stop_calls_each_running_jobs_cancel_and_wait_covers_every_pool(qtbot):
    tasks = BackgroundTasks(QThreadPool())
    own_pool = QThreadPool()
    blocked = threading.Event()  # stands for a socket read that no flag reaches
    started = threading.Event()
    seen: list[object] = []

    def download() -> str:
        started.set()
        blocked.wait(30)
        return "paused"

    assert tasks.run(download, seen.append, seen.append, pool=own_pool, cancel=blocked.set) is True
    assert started.wait(5)
    assert tasks.wait(0.05) is False  # still running on its own pool
    tasks.stop()  # does not wait
    assert blocked.is_set()
    assert tasks.wait(2.0) is True
    assert own_pool.activeThreadCount() == 0
    assert tasks.run(lambda: 1) is False  # quitting: nothing more starts
    qtbot.wait(50)  # a queued callback, if one were still delivered, would arrive here
    assert seen == []
