"""Decode speed of the single-file bundle against the `make install` build, on the same model.

    python packaging/bundle_speed.py                         # dist/Hearth-x86_64 vs .venv/bin/hearth
    python packaging/bundle_speed.py --runs 30 --bundle dist/Hearth-x86_64 --native .venv/bin/hearth

Each pair is one `hearth chat --json` reply from each build (greedy, the same message, the same
threads), run back to back with who goes first alternating, so machine noise hits both alike.
The ratio is the median of the pairs' bundle/native decode speeds, with a 90% bootstrap interval;
the goal is 0.95 or more. On a shared machine other load swings single replies several-fold (more
so with as many threads as cores): run it on a quiet machine, and read the best-reply ratio too. Needs nothing but the standard library (and the two builds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOLLM2 = Path.home() / ".cache" / "hearth" / "test-models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
# The engine benchmark's message: it asks for a long answer, so greedy decoding runs the full count.
MESSAGE = ("Write a long, detailed essay about the history of the city of Paris, from the Romans to "
           "today, with many paragraphs.")


def reply(exe: str, args: argparse.Namespace, home: str, run: int) -> dict:
    """One greedy reply from `exe`; its stats as `hearth chat --json` prints them."""
    cmd = [exe, "chat", "--model", str(args.model), "--temperature", "0", "--repeat-penalty", "1",
           "--max-tokens", str(args.tokens), "--threads", str(args.threads), "--json", f"{run}. {MESSAGE}"]
    env = {**os.environ, "HEARTH_HOME": home}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{exe} failed (exit code {done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_interval(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    """A 90% bootstrap interval for the median of `values`."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(rounds * 0.05)], medians[int(rounds * 0.95) - 1]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=str(ROOT / "dist" / "Hearth-x86_64"))
    parser.add_argument("--native", default=str(ROOT / ".venv" / "bin" / "hearth"),
                        help="the hearth command of a `make install` build")
    parser.add_argument("--model", type=Path, default=SMOLLM2)
    parser.add_argument("--runs", type=int, default=20, help="pairs (after one warm-up pair)")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0, help="0: Hearth's default (the physical cores)")
    args = parser.parse_args()
    for exe in (args.bundle, args.native):
        if not os.access(exe, os.X_OK):
            parser.error(f"{exe} is not an executable file")
    if not args.model.is_file():
        parser.error(f"no model at {args.model}")

    print(f"load average before: {load_average()}", file=sys.stderr)
    ratios, bundle_speeds, native_speeds, tokens = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="hearth-speed-") as home:
        for run in range(args.runs + 1):
            order = [("bundle", args.bundle), ("native", args.native)]
            if run % 2:
                order.reverse()
            speeds = {}
            for name, exe in order:
                stats = reply(exe, args, home, run)
                speeds[name] = stats["decode_tok_s"]
                tokens.append(stats["completion_tokens"])
                time.sleep(0.3)
            if run == 0:
                continue  # warms the file cache and the CPU up for both
            ratios.append(speeds["bundle"] / speeds["native"])
            bundle_speeds.append(speeds["bundle"])
            native_speeds.append(speeds["native"])
            print(f"  pair {run}: bundle {speeds['bundle']:.1f}  native {speeds['native']:.1f} tok/s  "
                  f"ratio {ratios[-1]:.3f}", file=sys.stderr)
    low, high = median_interval(ratios)
    print(f"load average after: {load_average()}", file=sys.stderr)
    print(f"model: {args.model.name}  new tokens: {args.tokens} (fewest generated: {min(tokens)})  "
          f"threads: {args.threads or 'default'}  pairs: {len(ratios)}")
    print(f"decode tok/s, median: bundle {statistics.median(bundle_speeds):.1f}  "
          f"native {statistics.median(native_speeds):.1f}")
    print(f"decode ratio bundle/native: {statistics.median(ratios):.3f} [90% {low:.3f}-{high:.3f}]  "
          f"(pairs {min(ratios):.2f}-{max(ratios):.2f}; goal >= 0.95)")
    # Other load only ever slows a reply down: each build's fastest reply shows it undisturbed.
    print(f"best decode tok/s: bundle {max(bundle_speeds):.1f}  native {max(native_speeds):.1f}  "
          f"ratio {max(bundle_speeds) / max(native_speeds):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
