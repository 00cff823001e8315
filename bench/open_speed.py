"""How fast real GGUF files open: header read, library scan, cold start to first token.

For each model: the header read (median of N, in this process, caches cleared),
`hearth models --json` cold and warm in a fresh HEARTH_HOME, and cold start to
first token for `hearth chat --max-tokens 1` against llama-server built from
llama-cpp-python's vendored llama.cpp (same model, threads, context), run in
alternating pairs.

    python bench/open_speed.py [--model PATH ...] [--runs 5] [--threads 2] [--ctx 512]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import ROOT, print_table
from engine_throughput import build_reference, free_port

PROMPT = "What is the capital of France?"


def default_model() -> Path:
    return Path.home() / ".cache" / "hearth" / "test-models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def header_read_ms(model: Path, runs: int) -> float:
    from app.library import gguf_info

    times = []
    for _ in range(runs):
        for value in vars(gguf_info).values():  # any in-process cache: we time the read itself
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
        t0 = time.perf_counter()
        gguf_info.read_gguf_info(model)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, HEARTH_HOME=str(home), HF_HOME=str(home / "hf"), HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def models_dir_under(home: Path) -> Path:
    from app import paths

    saved = os.environ.get("HEARTH_HOME")
    os.environ["HEARTH_HOME"] = str(home)
    try:
        return paths.models_dir()
    finally:
        if saved is None:
            del os.environ["HEARTH_HOME"]
        else:
            os.environ["HEARTH_HOME"] = saved


def scan_seconds(model: Path) -> tuple[float, float]:
    """`hearth models --json` in a fresh process: first (cold) and second (warm) run."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        home = Path(tmp)
        models = models_dir_under(home)
        models.mkdir(parents=True, exist_ok=True)
        os.symlink(model.resolve(), models / model.name)
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "app", "models", "--json"], env=_env(home),
                                 capture_output=True, text=True, check=True).stdout
            times.append(time.perf_counter() - t0)
            if model.name not in out:
                raise RuntimeError(f"hearth models did not list {model.name}: {out[:200]}")
        return times[0], times[1]


def hearth_first_token(model: Path, args) -> float:
    """Wall clock from process start to the first byte of the reply on stdout."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        cmd = [sys.executable, "-m", "app", "chat", PROMPT, "--model", str(model), "--max-tokens", "1",
               "--temperature", "0", "--ctx", str(args.ctx), "--threads", str(args.threads),
               "--gpu-layers", str(args.gpu_layers)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=_env(Path(tmp)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = proc.stdout.read(1)
        elapsed = time.perf_counter() - t0
        proc.communicate(timeout=120)
        if not first or proc.returncode != 0:
            raise RuntimeError(f"hearth chat failed (exit {proc.returncode})")
        return elapsed


def server_first_token(bin_dir: Path, model: Path, args) -> float:
    """Wall clock from llama-server's start to the answer of a one-token chat completion."""
    port = free_port()
    cmd = [str(bin_dir / "llama-server"), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
           "-t", str(args.threads), "-c", str(args.ctx), "-ngl", str(max(args.gpu_layers, 0)), "-np", "1",
           "--no-webui"]
    body = json.dumps({"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 1,
                       "temperature": 0}).encode()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("llama-server exited while starting")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.01)
            if time.perf_counter() - t0 > 120:
                raise RuntimeError("llama-server did not start")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            json.loads(r.read())
        return time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def load_path(model: Path, args) -> tuple[float, float, float]:
    """Through the real engine: first progress event after a load request with the engine
    process not started yet and with it started; and what switching to another model costs
    beyond llama.cpp's own load time (the same file again, so both loads do equal work)."""
    from app.engine import EngineClient, LoadOptions

    options = LoadOptions(str(model), n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, n_threads=args.threads)

    def first_progress(client: EngineClient) -> tuple[float, float]:
        first: list[float] = []
        t0 = time.perf_counter()
        client.load(options, lambda _f: first.append(time.perf_counter()) if not first else None)
        return (first[0] - t0) * 1000, time.perf_counter() - t0

    with EngineClient() as client:
        cold_ms, _ = first_progress(client)
    with EngineClient() as client:
        client.start()  # as the GUI does at launch; give it the seconds a person takes to click
        time.sleep(3)
        warm_ms, _ = first_progress(client)
        overheads = []
        for _ in range(3):
            _, wall = first_progress(client)
            overheads.append(wall - client.info.load_seconds)
    return cold_ms, warm_ms, statistics.median(overheads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, help="a GGUF file (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="pairs for the first-token timing (>= 5)")
    parser.add_argument("--header-runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--cmake-args", default="", help="extra CMake options for the llama-server build")
    args = parser.parse_args()
    models = args.model or [default_model()]
    for model in models:
        if not model.is_file():
            parser.error(f"no such model file: {model}")
    bin_dir = build_reference(args.cmake_args.split())

    rows, load_rows = [], []
    for model in models:
        cold_ms, warm_ms, switch = load_path(model, args)
        load_rows.append([model.name, f"{cold_ms:.1f}", f"{warm_ms:.1f}", f"{switch * 1000:.0f}"])
        header = header_read_ms(model, args.header_runs)
        cold, warm = scan_seconds(model)
        ours, theirs = [], []
        for i in range(max(args.runs, 1)):
            # alternate who goes first, so machine noise and the page cache hit both alike
            if i % 2 == 0:
                ours.append(hearth_first_token(model, args))
                theirs.append(server_first_token(bin_dir, model, args))
            else:
                theirs.append(server_first_token(bin_dir, model, args))
                ours.append(hearth_first_token(model, args))
        h, s = statistics.median(ours), statistics.median(theirs)
        rows.append([model.name, f"{header:.1f}", f"{cold:.2f}", f"{warm:.2f}", f"{h:.2f}", f"{s:.2f}",
                     f"{h / s:.2f}x"])
    print(f"threads {args.threads}, context {args.ctx}, gpu layers {args.gpu_layers}, "
          f"first token: median of {args.runs} alternating pairs")
    print_table(["model", "header read ms", "scan cold s", "scan warm s", "hearth chat 1st token s",
                 "llama-server 1st token s", "ratio"], rows)
    print()
    print_table(["model", "1st progress ms (engine not started: client says 'starting')",
                 "1st progress ms from the engine (started at launch)",
                 "switch overhead ms (beyond llama.cpp's load)"], load_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
