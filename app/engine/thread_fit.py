"""Threads fitted to the cores other programs leave free ("Automatic" CPU threads).

llama.cpp's worker threads wait for each other at every step of a token, and they wait by
spinning. When another program takes one of the cores they run on, every token waits for the
thread that lost its core, so decoding collapses: on 2 cores one busy process took SmolLM2
from ~100 to ~30 tok/s (single runs as low as 2), where one thread alone kept ~70.

So while a model is loaded, a sampler thread reads the CPU time of the cores this process may
use (/proc/stat), of this process and of the one that started it (the app's window, the CLI:
its work is the reply's own) every SAMPLE_SECONDS; three small file reads, about 60 µs (0.06% of a core). What
the other programs used in that time, in cores, is taken off the cores this process may use,
and the thread count is at most that (and at most the default, one per physical core): a core
counts as taken once the others use more than TAKEN_FRACTION of one. The count drops at once
and rises again after a quiet sample. The prompt and reply loops read the count between
batches and tokens and tell llama.cpp (llama_set_n_threads): cheap, and never inside a batch.
While the engine itself uses no CPU (a model loaded, nothing asked), it looks once a second, and
when a prompt then starts it looks again at once, over a fresh 50 ms.

An explicit thread count in the load settings is kept as it is. Where /proc is missing (not
Linux) the count stays at the default.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

SAMPLE_SECONDS = 0.1
IDLE_SAMPLE_SECONDS = 1.0  # while this process used no CPU at all since the last look
FRESH_SECONDS = 0.05  # the first look when a reply starts after such a pause
TAKEN_FRACTION = 0.35  # of a core used by other programs that already costs a spinning thread its speed


def _cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _busy_ticks(cores: list[int]) -> int | None:
    """Clock ticks the given cores spent busy since boot (everything but idle and iowait)."""
    wanted = {f"cpu{n}" for n in cores}
    total = 0
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                name, _, rest = line.partition(" ")
                if name in wanted:
                    fields = [int(v) for v in rest.split()]
                    total += sum(fields[:8]) - fields[3] - fields[4]  # user..steal, less idle and iowait
    except (OSError, ValueError, IndexError):
        return None
    return total


def _process_ticks(pid: str = "self") -> int | None:
    """Clock ticks a process has used (all its threads, user and system)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def _sample(cores: list[int]) -> tuple[float, int, int, int] | None:
    """(when, busy ticks of `cores`, ticks of this process and its parent (the app or the CLI that asked
    for the reply), ticks of this process alone); None where /proc cannot tell."""
    busy, own = _busy_ticks(cores), _process_ticks()
    if busy is None or own is None:
        return None
    parent = _process_ticks(str(os.getppid())) if os.getppid() > 1 else 0
    return time.monotonic(), busy, own + (parent or 0), own


def threads_for(others_cores: float, most: int, cores: int | None = None) -> int:
    """How many threads to run when other programs keep `others_cores` of this process's `cores` busy
    (logical cores; `most` is the default, one per physical core)."""
    taken = int(others_cores + (1.0 - TAKEN_FRACTION))  # 0.35 of a core or more counts as a core
    return max(1, min(most, (cores or most) - taken))


class ThreadFit:
    """The thread count to use now; `threads` is read by the engine's main thread."""

    def __init__(self, most: int, adaptive: bool) -> None:
        self.most = max(1, most)
        self._core_ids = _cores()
        self.cores = len(self._core_ids)
        self.threads = self.most
        self.applied = self.most  # what llama.cpp was last told (the context starts with `most`)
        self.adaptive = adaptive and _sample(self._core_ids) is not None
        self.others = 0.0  # cores the other programs used in the last sample
        self._stop = threading.Event()
        self._wake = threading.Event()  # a reply starts while the sampler looks only once a second
        self._idle = False
        self._thread: threading.Thread | None = None
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def start(self) -> None:
        if self.adaptive and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="thread-fit", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def apply(self, ctx: Any) -> None:
        """Tell llama.cpp the count when it changed (the engine's main thread, between batches and tokens)."""
        if self._idle:  # a prompt is read: look again now, over a fresh window, and then often
            self._idle = False
            self._wake.set()
        threads = self.threads
        if threads != self.applied:
            import llama_cpp

            llama_cpp.llama_set_n_threads(ctx, threads, threads)
            self.applied = threads

    def _run(self) -> None:
        cores = self._core_ids
        last = _sample(cores)
        interval = SAMPLE_SECONDS
        while not self._stop.is_set():
            if self._wake.wait(interval):  # woken by a reply: the last window may hold a burst long over
                self._wake.clear()
                last = _sample(cores)
                self._stop.wait(FRESH_SECONDS)
            if self._stop.is_set():
                return
            now = _sample(cores)
            if now is None or last is None:
                return
            elapsed = now[0] - last[0]
            others = max(0.0, ((now[1] - last[1]) - (now[2] - last[2])) / self._hz / elapsed) if elapsed > 0 else 0
            self.observe(others)
            # while the engine does nothing (no reply, no count) a look a second is enough: a laptop sleeps
            self._idle = now[3] == last[3]
            interval = IDLE_SAMPLE_SECONDS if self._idle else SAMPLE_SECONDS
            last = now

    def observe(self, others_cores: float) -> None:
        """One sample: the count for what the other programs used in it."""
        self.others = others_cores
        self.threads = threads_for(others_cores, self.most, self.cores)
