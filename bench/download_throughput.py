"""Download speed of Hearth's downloader against curl, from the local Hub server.

Serves a file of --size MiB from tests/support/fake_hub.py on 127.0.0.1 and
fetches it with curl and with app.hub.download.Downloader over 1 connection,
over N from the start (--connections, default 4), and as the app does by
default (one connection, then N kept only if they beat the one), verifying
SHA-256 as the app does. --per-connection-mib caps each of the server's
answers, as a CDN that limits single connections does; --line-mib caps them
all together, as a full line does. Each run fetches with every client in turn, the order rotated from run
to run so that each client takes each position equally often; the table shows
medians. Target: Hearth at least 90% of curl. The server runs in its own
process; "curl, then sha256sum" shows what a verified download costs curl.

Before each timed fetch a scratch file of the same size is written and
deleted (skip it with --cold). On the virtual machines these numbers come from,
memory the guest has not used for a few seconds is handed back to the host and
the next page-cache write into it runs at about 300 MiB/s instead of 3 GB/s;
without the warm-up, whichever client runs after a pause pays for that.

    python bench/download_throughput.py [--size 256 512] [--runs 6] [--connections 4] [--cold]
                                        [--per-connection-mib 100] [--line-mib 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import print_table

REPO = "bench/Big-GGUF"
NAME = "big.Q4_K_M.gguf"


def serve(source: str, answers, rate: float, line: float) -> None:
    from tests.support.fake_hub import FakeHub

    hub = FakeHub()
    hub.per_connection_rate, hub.total_rate = rate or None, line or None
    hub.add_repo(REPO, {NAME: Path(source)})
    hub.start()
    answers.put((hub.url, hub.sha256(REPO, NAME)))
    hub.thread.join()


def write_file(path: Path, mib: int, block: bytes) -> None:
    with path.open("wb") as handle:
        for _ in range(mib):
            handle.write(block)


def measure(mib: int, runs: int, connections: int, cold: bool, work: Path, rate: float, line: float,
            used: list[tuple[int, int]]) -> dict[str, list[float]]:
    """Seconds per fetch for each client, `runs` rounds in rotated order."""
    block = os.urandom(1 << 20)
    source = work / NAME
    write_file(source, mib, block)
    # The server runs in its own process, as the Hub would: sharing ours would make the
    # downloader compete with it for the GIL, which curl does not have to do.
    ctx = multiprocessing.get_context("spawn")
    answers = ctx.Queue()
    server = ctx.Process(target=serve, args=(str(source), answers, rate, line), daemon=True)
    server.start()
    hub_url, sha = answers.get(timeout=60)
    os.environ["HF_ENDPOINT"] = hub_url
    from app.hub.download import Downloader
    from app.hub.download_record import DownloadRecord
    from app.hub.quant import GGUFChoice, HubFile

    choice = GGUFChoice(NAME, "Q4_K_M", (HubFile(NAME, source.stat().st_size, sha),))
    url = f"{hub_url}/{REPO}/resolve/main/{NAME}"
    times: dict[str, list[float]] = {"curl": [], "verified curl": [], "1": [], "N": [], "default": []}

    def warm() -> None:
        if not cold:
            scratch = work / "warm.bin"
            write_file(scratch, mib, block)
            scratch.unlink()

    def with_curl() -> None:
        out = work / "curl.out"
        warm()
        t = time.perf_counter()
        subprocess.run(["curl", "-s", "-o", str(out), url], check=True)
        times["curl"].append(time.perf_counter() - t)
        subprocess.run(["sha256sum", str(out)], check=True, capture_output=True)
        times["verified curl"].append(time.perf_counter() - t)
        out.unlink()

    def with_hearth(count: int | None, key: str) -> Callable[[], None]:
        def fetch() -> None:
            d = Downloader(DownloadRecord.for_choice(REPO, choice), connections=count)
            warm()
            t = time.perf_counter()
            path = d.run()
            times[key].append(time.perf_counter() - t)
            if count is None:
                used.append(d.connections_used)
            path.unlink()
        return fetch

    clients = [with_curl, with_hearth(1, "1"), with_hearth(connections, "N"), with_hearth(None, "default")]
    try:
        for run in range(runs):
            shift = run % len(clients)
            for step in clients[shift:] + clients[:shift]:
                step()
                time.sleep(0.3)
    finally:
        server.terminate()
        server.join()
        source.unlink()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, nargs="+", default=[256, 512], help="file sizes in MiB")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--connections", type=int, default=0, help="N (default: the app's)")
    parser.add_argument("--cold", action="store_true", help="no page-cache warm-up before each fetch")
    parser.add_argument("--per-connection-mib", type=float, default=0,
                        help="the server sends each answer at most this fast (MiB/s; default: no cap)")
    parser.add_argument("--line-mib", type=float, default=0,
                        help="the server sends all answers together at most this fast (MiB/s; default: no cap)")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the comparison")
    work = Path(tempfile.mkdtemp(prefix="hearth-dl-bench-"))
    os.environ["HEARTH_HOME"] = str(work / "home")
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ.pop("HEARTH_DOWNLOAD_CONNECTIONS", None)  # the default row is the app's own choice
    from app.hub.download import CONNECTIONS

    n = args.connections or CONNECTIONS
    try:
        for mib in args.size:
            used: list[tuple[int, int]] = []
            times = measure(mib, args.runs, n, args.cold, work, args.per_connection_mib * (1 << 20),
                            args.line_mib * (1 << 20), used)
            curl = mib / statistics.median(times["curl"])
            rows = []
            kept = " ".join(f"{a}/{b}" for a, b in used)
            for label, key in (("curl", "curl"), ("curl, then sha256sum", "verified curl"),
                               ("Hearth, 1 connection (SHA-256 verified)", "1"),
                               (f"Hearth, {n} connections (SHA-256 verified)", "N"),
                               (f"Hearth, app default (opened, kept: {kept})", "default")):
                rate = mib / statistics.median(times[key])
                runs = ", ".join(f"{mib / t:.0f}" for t in times[key])
                rows.append([label, f"{rate:.0f}", f"{rate / curl:.2f}", runs])
            warmth = "cold page cache" if args.cold else "page cache warmed before each fetch"
            cap = f", each answer capped at {args.per_connection_mib:g} MiB/s" if args.per_connection_mib else ""
            cap += f", all answers together at {args.line_mib:g} MiB/s" if args.line_mib else ""
            print(f"\n{mib} MiB over loopback from the local Hub server, median of {args.runs} runs "
                  f"(order rotated, {warmth}{cap})\n")
            print_table(["client", "MiB/s", "vs curl", "single runs, MiB/s"], rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
