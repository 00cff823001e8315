"""The whole app's quit, from the Quit action (Ctrl+Q) to the end of its process, in each busy state.

Each case runs the app in a child process (offscreen; `--display` shows it instead), builds the window
as `run_app` does, starts the work, triggers File → Quit and prints the moment it did; the parent
times the process's exit. The process end is what a user waits for: Qt waits there for every pool
thread, so a job that ignores quitting shows up here even when the quit sequence itself returned.

- reply:    SmolLM2 writing a long greedy reply
- load:     a load the engine never finishes (the engine is SIGSTOPped first)
- download: a download from a local Hub that sent 4 KiB and went silent
- scan:     a library scan of 40 files on a "slow disk" (0.25 s per header)

    python bench/quit_app.py [--runs 3] [--cases reply,load,download,scan]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, print_table

BOUND = 2.0


def child(case: str) -> int:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    from app.ui.application import build_window, shutdown

    window = build_window()
    window.show()
    quit_action = next(a for a in window.findChildren(QAction) if a.text() == "Quit")

    def quit_now() -> None:
        print(f"QUIT {time.monotonic():.6f}", flush=True)
        quit_action.trigger()

    def when(ready, then, interval: int = 20) -> None:
        from PySide6.QtCore import QTimer

        timer = QTimer(window)
        timer.timeout.connect(lambda: (timer.stop(), then()) if ready() else None)
        timer.start(interval)

    if case in ("reply", "load"):
        from tests.support.real_models import smollm2_path

        model, why = smollm2_path()
        if model is None:
            print(f"SKIP {why}", flush=True)
            return 0
        page = window.chat_page
        if case == "reply":
            page.model_loaded.connect(lambda _info: page.send("Write a long story about a lighthouse keeper."))
            when(lambda: page.streaming and len(page.messages.item(1).content) > 40, quit_now)
        else:
            window.engine.client.start()
            os.kill(window.engine.client.pid, signal.SIGSTOP)
            when(lambda: bool(window.engine.client.pending), quit_now)
        window.open_with_model(str(model))
    elif case == "download":
        from app.hub.search import list_gguf_files
        from tests.support.fake_hub import TEST_REPO, FakeHub

        hub = FakeHub()
        hub.add_repo(TEST_REPO, {"big.Q8_0.gguf": os.urandom(1 << 20)})
        hub.start()
        os.environ["HF_ENDPOINT"] = hub.url
        hub.stall("big.Q8_0.gguf", after_bytes=4096)
        choice = next(c for c in list_gguf_files(TEST_REPO) if c.name == "big.Q8_0.gguf")
        key = window.downloads.start(TEST_REPO, choice)
        model = window.downloads.model
        when(lambda: model.rows[model.row_of(key)].done_bytes > 0, quit_now)
    elif case == "scan":
        from app.library import library

        folder = Path(tempfile.mkdtemp()) / "slow-disk"
        folder.mkdir()
        for i in range(40):
            (folder / f"m{i:02d}.gguf").write_bytes(b"GGUF" + bytes(60))
        read_header, reading = library.read_info_uncached, threading.Event()

        def slow_read(path, deadline=None):
            reading.set()
            threading.Event().wait(0.25)
            return read_header(path, deadline)

        library.read_info_uncached = slow_read

        def rescan() -> None:
            window.settings.extra_model_dirs.append(str(folder))
            window.refresh_library()
            when(reading.is_set, quit_now)

        when(lambda: not window.scanning, rescan)
    try:
        return app.exec()
    finally:
        shutdown(window)


def run_case(case: str, display: str) -> float | str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HEARTH_HOME=tempfile.mkdtemp(prefix="hearth-quit-bench-"),
               HF_HUB_DISABLE_XET="1")
    if display:
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    process = subprocess.Popen([sys.executable, __file__, "--child", case], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    quit_at = None
    for line in process.stdout:
        if line.startswith("SKIP"):
            process.wait()
            return line.strip()
        if line.startswith("QUIT"):
            quit_at = float(line.split()[1])
            break
    process.wait(timeout=120)
    return time.monotonic() - quit_at if quit_at is not None else "no quit"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default="reply,load,download,scan")
    parser.add_argument("--display", default="", help="an X display (e.g. :22) instead of offscreen")
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    rows = []
    for case in args.cases.split(","):
        times = [run_case(case, args.display) for _ in range(args.runs)]
        numbers = [t for t in times if isinstance(t, float)]
        if not numbers:
            rows.append([case, times[0], "", ""])
            continue
        rows.append([case, f"{statistics.median(numbers):.2f}", f"{max(numbers):.2f}",
                     "yes" if max(numbers) < BOUND else "NO"])
    print_table(["busy with", "median s", "worst s", f"under {BOUND:g} s"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
