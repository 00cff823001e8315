"""The longest GUI event-loop stall while a reply streams at full speed.

A 2 ms heartbeat timer runs on the GUI thread while the real window streams a
long reply from a tiny model (thousands of tokens a second, far faster than a
real model). Gaps between heartbeats are the stalls a user would feel.
Targets: p99 under 16 ms, worst under 50 ms.

`--code` streams a scripted reply instead (bench/_scripted_reply.py): fenced Python
blocks, about three characters a token at 1000 tokens a second (near the tiny
model's own speed), to measure highlighting code while it grows.

    QT_QPA_PLATFORM=offscreen python bench/ui_latency.py [--tokens 3000] [--code]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from _common import print_table

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def gap_recorder(gaps: list[float]) -> Callable[[], None]:
    """A heartbeat that adds to `gaps` the milliseconds since its previous beat (the first since now)."""
    from PySide6.QtCore import QElapsedTimer

    clock = QElapsedTimer()
    clock.start()
    last = clock.nsecsElapsed()

    def beat() -> None:
        nonlocal last
        now = clock.nsecsElapsed()
        gaps.append((now - last) / 1e6)
        last = now

    return beat


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", action="store_true",
                        help="stream fenced Python code (about 3 characters a token) instead of the model's text")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="hearth-bench-")
    os.environ["HEARTH_HOME"] = home

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.engine import SamplingParams
    from app.settings import Settings
    from app.ui.application import build_window, shutdown
    from tests.support.tiny_gguf import write_tiny_model

    app = QApplication.instance() or QApplication([])
    model = write_tiny_model(Path(home) / "bench-tiny.gguf", context_length=8192)
    window = build_window(Settings())
    window.resize(1280, 820)
    window.show()
    page = window.chat_page

    def spin_until(condition, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            app.processEvents()
            time.sleep(0.001)
            if time.monotonic() > deadline:
                raise TimeoutError("timed out")

    page.load_settings.ctx.setValue(args.tokens + 512)
    window.open_with_model(str(model))
    spin_until(lambda: window.engine.info is not None)
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0, max_tokens=args.tokens), emit=True)
    if args.code:
        from _scripted_reply import ScriptedStream, code_reply

        page.engine.chat = ScriptedStream(page.engine, code_reply(args.tokens * 3))
    finished = []
    page.reply_finished.connect(finished.append)

    rows = []
    for run in range(args.runs):
        gaps: list[float] = []
        beat = gap_recorder(gaps)
        heartbeat = QTimer()
        heartbeat.setInterval(2)
        heartbeat.timeout.connect(beat)
        page.composer.set_text(f"run {run}: tell me a long story")
        page.composer._send()
        heartbeat.start()
        # Let Qt's own event loop run (exec-like) until the reply is done.
        loop_start = time.monotonic()
        while page.streaming:
            app.processEvents()
            time.sleep(0.0005)
        heartbeat.stop()
        elapsed = time.monotonic() - loop_start
        if page.messages.item(page.messages.rowCount() - 1).error:
            raise SystemExit(f"the reply failed: {page.messages.item(page.messages.rowCount() - 1).error}")
        done = finished[-1].stats
        gaps.sort()
        p99 = gaps[int(len(gaps) * 0.99) - 1] if gaps else 0
        rows.append([run + 1, done.completion_tokens, f"{done.decode_tok_s:.0f}", f"{elapsed:.2f}", len(gaps),
                     f"{statistics.median(gaps):.1f}", f"{p99:.1f}", f"{gaps[-1]:.1f}"])

    what = "fenced Python code" if args.code else "the model's text"
    print(f"\nheartbeat every 2 ms while streaming {what}; window {window.width()}x{window.height()}, "
          f"platform {app.platformName()}\n")
    print_table(["run", "tokens", "tok/s", "seconds", "beats", "median gap ms", "p99 gap ms", "worst gap ms"], rows)
    window.close()
    shutdown(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
