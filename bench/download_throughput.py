"""Download speed of Hearth's downloader against curl, from the local Hub server.

Serves a file of --size MiB from tests/support/fake_hub.py on 127.0.0.1 and
fetches it with curl and with app.hub.download.Downloader (hashing as it goes,
as in the app), in turn, several times. Target: Hearth at least 90% of curl.
The server runs in its own process; on a 2-core machine it takes one core, so
the SHA-256 that Hearth computes competes with it, while plain curl checks
nothing: "curl, then sha256sum" shows what a verified download costs curl.

    python bench/download_throughput.py [--size 512] [--runs 3]
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
from pathlib import Path

from _common import print_table

REPO = "bench/Big-GGUF"
NAME = "big.Q4_K_M.gguf"


def serve(source: str, answers) -> None:
    from tests.support.fake_hub import FakeHub

    hub = FakeHub()
    hub.add_repo(REPO, {NAME: Path(source)})
    hub.start()
    answers.put((hub.url, hub.sha256(REPO, NAME)))
    hub.thread.join()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512, help="file size in MiB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the comparison")
    work = Path(tempfile.mkdtemp(prefix="hearth-dl-bench-"))
    os.environ["HEARTH_HOME"] = str(work / "home")
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    source = work / NAME
    with source.open("wb") as handle:
        block = os.urandom(1 << 20)
        for _ in range(args.size):
            handle.write(block)

    # The server runs in its own process, as the Hub would: sharing ours would make the
    # downloader compete with it for the GIL, which curl does not have to do.
    ctx = multiprocessing.get_context("spawn")
    answers = ctx.Queue()
    server = ctx.Process(target=serve, args=(str(source), answers), daemon=True)
    server.start()
    hub_url, sha = answers.get(timeout=60)
    os.environ["HF_ENDPOINT"] = hub_url
    from app.hub.download import Downloader
    from app.hub.download_record import DownloadRecord
    from app.hub.quant import GGUFChoice, HubFile

    size = source.stat().st_size
    choice = GGUFChoice(NAME, "Q4_K_M", (HubFile(NAME, size, sha),))
    url = f"{hub_url}/{REPO}/resolve/main/{NAME}"
    curl_s, curl_verified_s, ours_s = [], [], []
    try:
        def with_curl() -> None:
            out = work / "curl.out"
            t = time.perf_counter()
            subprocess.run(["curl", "-s", "-o", str(out), url], check=True)
            curl_s.append(time.perf_counter() - t)
            subprocess.run(["sha256sum", str(out)], check=True, capture_output=True)
            curl_verified_s.append(time.perf_counter() - t)
            out.unlink()

        def with_hearth() -> None:
            d = Downloader(DownloadRecord.for_choice(REPO, choice))
            t = time.perf_counter()
            path = d.run()
            ours_s.append(time.perf_counter() - t)
            path.unlink()

        # Alternate who goes first: the one after a big write pays for its write-back.
        for run in range(args.runs):
            for step in ((with_curl, with_hearth) if run % 2 else (with_hearth, with_curl)):
                step()
                time.sleep(0.5)
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)
    mib = size / (1 << 20)
    if os.environ.get("BENCH_VERBOSE"):
        print("curl MiB/s", [round(mib / t) for t in curl_s], "hearth MiB/s", [round(mib / t) for t in ours_s])
    curl_rate = mib / statistics.median(curl_s)
    our_rate = mib / statistics.median(ours_s)
    print(f"\n{mib:.0f} MiB over loopback from the local Hub server, median of {args.runs} runs\n")
    verified_rate = mib / statistics.median(curl_verified_s)
    print_table(["client", "MiB/s", "vs curl"], [
        ["curl", f"{curl_rate:.0f}", "1.00"],
        ["curl, then sha256sum", f"{verified_rate:.0f}", f"{verified_rate / curl_rate:.2f}"],
        ["hearth Downloader (SHA-256 while downloading)", f"{our_rate:.0f}", f"{our_rate / curl_rate:.2f}"],
    ])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
