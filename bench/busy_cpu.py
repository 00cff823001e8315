"""Decode and first-token speed with other programs busy: Hearth's default against llama-server's.

A laptop is rarely idle. This starts 0, 1 and 2 busy processes (`while True: pass`; with more
cores also half and all of them) and, at each level, runs replies on Hearth's engine with its
default ("Automatic") threads and on llama-server with its default threads, one of each in turn
(who goes first alternates), from the same vendored llama.cpp build. Each reply is greedy, a
fixed number of tokens, on a prompt no cache holds.

    python bench/busy_cpu.py --model ~/.cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf
    python bench/busy_cpu.py --model A.gguf --runs 8 --levels 0,1,2

Printed per level: each engine's median decode speed and time to first token (measured by
the client, as a chat app sees it: IPC for Hearth, streamed HTTP for llama-server) with 90%
bootstrap intervals, and the median of the pairwise decode ratios. The targets of issue 30:
idle >= 0.97x, one busy process >= 1.5x, two >= 2x, and with one busy process Hearth keeps at
least a third of its own idle speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _common import median_interval, print_table
from engine_throughput import CHAT_MESSAGE, SMOLLM2, Server, build_reference, engine_cmake_args


def spinners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def server_reply(port: int, message: str, tokens: int) -> tuple[float, float]:
    """(decode tok/s, seconds to the first streamed token) of one greedy llama-server reply."""
    body = json.dumps({"messages": [{"role": "user", "content": message}], "max_tokens": tokens,
                       "temperature": 0, "top_k": 1, "samplers": ["top_k"], "ignore_eos": True,
                       "cache_prompt": True, "stream": True}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
    start, first, timings = time.perf_counter(), 0.0, None
    with urllib.request.urlopen(request, timeout=900) as response:
        for line in response:
            if not line.startswith(b"data: {"):
                continue
            event = json.loads(line[6:])
            if not first and any((c.get("delta") or {}).get("content") for c in event.get("choices", [])):
                first = time.perf_counter() - start
            timings = event.get("timings") or timings
    if timings is None:
        raise RuntimeError("llama-server's stream ended without timings")
    return timings["predicted_per_second"], first


def hearth_reply(engine, message: str, tokens: int) -> tuple[float, float]:
    """(decode tok/s, seconds to the first token) of one greedy reply on Hearth's engine."""
    from app.engine import ChatMessage, Done, SamplingParams, Token

    greedy = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=tokens)
    start, first, decode = time.perf_counter(), 0.0, 0.0
    for event in engine.chat([ChatMessage("user", message)], greedy):
        if isinstance(event, Token) and not first:
            first = time.perf_counter() - start
        elif isinstance(event, Done):
            decode = event.stats.decode_tok_s
    return decode, first


def levels_for(cores: int, asked: str | None) -> list[int]:
    if asked:
        return [int(v) for v in asked.split(",")]
    levels = {0, 1, 2, max(cores // 2, 1), cores}
    return sorted(levels)


def run_level(engine, server: Server, busy: int, args) -> dict:
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    procs = spinners(busy)
    try:
        time.sleep(1.0)  # let the scheduler and the thread fit see the load
        for i in range(args.runs + 1):
            message = f"{busy}-{i}. {CHAT_MESSAGE}"  # a new first word: no prompt comes from a cache
            order = [("ours", lambda message=message: hearth_reply(engine, message, args.tokens)),
                     ("theirs", lambda message=message: server_reply(server.port, message, args.tokens))]
            for name, run in order if i % 2 == 0 else order[::-1]:
                result = run()
                if i > 0:  # run 0 warms both up
                    (ours if name == "ours" else theirs).append(result)
            if i > 0:
                print(f"  busy {busy} pair {i}: decode {ours[-1][0]:.1f}/{theirs[-1][0]:.1f} tok/s, "
                      f"first token {ours[-1][1]:.2f}/{theirs[-1][1]:.2f} s", file=sys.stderr)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    return {"ours": ours, "theirs": theirs}


def cell(values: list[float], digits: int = 1) -> str:
    low, high = median_interval(values)
    return f"{statistics.median(values):.{digits}f} [{low:.{digits}f}-{high:.{digits}f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=SMOLLM2)
    parser.add_argument("--runs", type=int, default=6, help="pairs per level (after one warm-up pair)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--levels", help="busy process counts, e.g. 0,1,2 (default: 0, 1, 2, half, all cores)")
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--ref-bin", type=Path, help="a folder with llama-server already built")
    parser.add_argument("--flash-attn", choices=("auto", "on", "off"), default="auto",
                        help="auto: each engine's own default (they differ on the CPU: Hearth's is off, llama-server's "
                             "on); on or off: the same computation in both, so only the threading differs")
    args = parser.parse_args()
    from app.engine import EngineClient, LoadOptions

    cmake_args = list(dict.fromkeys(engine_cmake_args() + shlex.split(os.environ.get("CMAKE_ARGS", ""))))
    bin_dir = args.ref_bin or build_reference(cmake_args)
    # llama-server with its own defaults: threads, flash attention; only the port, context and one slot set
    server_args = argparse.Namespace(threads=-1, ctx=args.ctx, gpu_layers=0, flash_attn=args.flash_attn,
                                     backend_sampling=False)
    server = Server(bin_dir, args.model, server_args)
    server.cmd = [c for c in server.cmd if c not in ("-t", "-1")]
    rows = []
    idle_ours = 0.0
    with EngineClient() as engine, server:
        flash = {"auto": None, "on": True, "off": False}[args.flash_attn]
        engine.load(LoadOptions(str(args.model), n_ctx=args.ctx, flash_attn=flash))  # Automatic threads
        for busy in levels_for(os.cpu_count() or 2, args.levels):
            result = run_level(engine, server, busy, args)
            ours_decode = [d for d, _ in result["ours"]]
            theirs_decode = [d for d, _ in result["theirs"]]
            ratios = [a / b for a, b in zip(ours_decode, theirs_decode) if b > 0]
            if busy == 0:
                idle_ours = statistics.median(ours_decode)
            own = f"{statistics.median(ours_decode) / idle_ours:.2f}" if idle_ours else "-"
            rows.append([busy, cell(ours_decode), cell(theirs_decode), cell(ratios, 2), own,
                         cell([f for _, f in result["ours"]], 2), cell([f for _, f in result["theirs"]], 2)])
    print(f"\n{args.model.name}, {args.tokens} tokens, {args.runs} pairs per level, {os.cpu_count()} cores, "
          f"flash attention {args.flash_attn}\n")
    print_table(["busy", "Hearth tok/s", "llama-server tok/s", "ratio", "of own idle", "Hearth first token s",
                 "llama-server first token s"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
