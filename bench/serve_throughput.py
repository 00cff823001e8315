"""Hearth's OpenAI-compatible server against llama-server with parallel slots, on the same model.

Servers: `hearth serve --parallel 4` (the context split four ways, as llama-server's -np 4), `hearth serve`
with its automatic choice (2-4 sequences as memory allows, each with the whole --ctx), and llama-server
`-np 4` (continuous batching), all with --ctx tokens per sequence and the same threads.

Two tables:
- aggregate decode tokens/s (completion tokens of every reply / wall time) with 4 and 16 streaming
  clients, each sending greedy chat requests one after another; the servers take turns within each round
  (the order rotates every round) and the table shows the median over rounds, and the median and range
  of each round's ratio to llama-server (the two ran minutes apart at most);
- time to first token of a newcomer: alone on an idle server, and while N-1 other clients stream long
  replies (the target: busy within 1.5x of idle), medians over rounds.

CPU ms per token: the server's processes' CPU time (user + system, the engine process included) over the
aggregate runs, per completion token: what each server costs beyond the model's computation, measured
apart from the wall time (the clients share the machine's cores).

--flash-attn auto (the default) compares each engine's default, which differ on the CPU (Hearth: off,
llama-server: on); --flash-attn on or off gives both the same computation.

    python bench/serve_throughput.py --rounds 3 --flash-attn off
    python bench/serve_throughput.py --threads 0      # each server's default thread count
    python bench/serve_throughput.py --same-prompts   # prompts resent: both servers' RAM prompt caches at work
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import httpx
import psutil
from _common import ROOT, print_table

from tests.support.servers import LlamaServer, free_port, llama_server_binary

NEWCOMERS = iter(range(1000, 100_000))
# Every request of a run asks something no server has seen yet: both servers keep finished prompts'
# caches in RAM (llama-server's --cache-ram, Hearth's --prompt-cache) and would skip reading a prompt
# repeated from an earlier measurement. --same-prompts measures that instead: 64 prompts over and over.
PROMPTS: Iterator[int] = iter(range(100_000, 10_000_000))
TOPICS = ["rivers", "bread", "the moon", "trains", "bees", "glass", "chess", "rain", "maps", "salt", "owls", "clocks"]


class HearthServer:
    def __init__(self, model: Path, threads: int, ctx: int, parallel: int | None, flash_attn: str,
                 extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [sys.executable, "-m", "app", "serve", "--model", str(model), "--port", str(self.port),
                    "--threads", str(threads), "--gpu-layers", "0", "--max-queue", "64",
                    "--flash-attn", flash_attn]
        # --parallel N shares --ctx between N sequences (as llama-server's -np): give each `ctx`
        self.cmd += ["--ctx", str(ctx)] if parallel is None else ["--ctx", str(ctx * parallel), "--parallel",
                                                                  str(parallel)]
        self.cmd += extra
        self.process: subprocess.Popen | None = None

    def start(self) -> HearthServer:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(self.cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("hearth serve exited")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("hearth serve did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def stream_chat(url: str, body: dict) -> Iterator[dict]:
    """The JSON payloads of one streamed /v1/chat/completions reply, as they come."""
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=600) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data:") and not line.endswith("[DONE]"):
                yield json.loads(line[5:])


def one_request(url: str, n: int, max_tokens: int) -> tuple[float, int, float]:
    """(time to first token, completion tokens, total seconds) of one streamed greedy chat request."""
    body = {"model": "m", "messages": [{"role": "user", "content": f"{n}. Tell me about {TOPICS[n % len(TOPICS)]}."}],
            "temperature": 0, "max_tokens": max_tokens, "stream": True, "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    ttft, tokens, deltas = 0.0, 0, 0
    for payload in stream_chat(url, body):
        if payload.get("usage"):
            tokens = payload["usage"]["completion_tokens"]
        for choice in payload.get("choices") or []:
            if (choice.get("delta") or {}).get("content"):
                deltas += 1
                if not ttft:
                    ttft = time.perf_counter() - t0
    return ttft, tokens or deltas, time.perf_counter() - t0


def aggregate_tok_s(url: str, clients: int, per_client: int, max_tokens: int) -> float:
    """Completion tokens per second of wall time, `clients` streaming clients at once."""
    tokens: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_client):
            with lock:
                n = next(PROMPTS)
            _ttft, got, _total = one_request(url, n, max_tokens)
            with lock:
                tokens.append(got)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(tokens) / (time.perf_counter() - t0)


def newcomer_ttft(url: str, busy_clients: int, long_tokens: int) -> float:
    """A newcomer's time to first token while `busy_clients` stream long replies (0: an idle server)."""
    started = threading.Barrier(busy_clients + 1) if busy_clients else None
    threads = [threading.Thread(target=lambda n=n: (started.wait(), one_request(url, 500 + n, long_tokens)))
               for n in range(busy_clients)]
    for t in threads:
        t.start()
    if started is not None:
        started.wait()
        time.sleep(1.0)  # the others are past their prompts and decoding
    ttft = one_request(url, next(NEWCOMERS), 4)[0]  # a prompt no server has cached
    for t in threads:
        t.join()
    return ttft


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its children (hearth serve's engine process)."""
    try:
        process = psutil.Process(pid)
        total = 0.0
        for each in [process, *process.children(recursive=True)]:
            times = each.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


def rotate(items: list, by: int) -> list:
    by %= len(items)
    return items[by:] + items[:by]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path,
                        default=Path.home() / ".cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--clients", default="4,16")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=4,
                        help="requests per client per measurement (2 left the last replies' tail a large part)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2,
                        help="for every server; 0: each one's default (Hearth: automatic, fewer while other "
                             "programs keep cores busy; llama-server: one per physical core)")
    parser.add_argument("--ctx", type=int, default=2048, help="context per sequence, for every server")
    parser.add_argument("--slots", type=int, default=4, help="hearth --parallel and llama-server -np")
    parser.add_argument("--flash-attn", choices=["auto", "on", "off"], default="auto",
                        help="for both engines (auto: each engine's own default, which differ on the CPU)")
    parser.add_argument("--no-default", action="store_true",
                        help="leave out `hearth serve` with its automatic --parallel (shorter runs)")
    parser.add_argument("--same-prompts", action="store_true",
                        help="the clients send the same 64 prompts again and again (a RAM prompt cache finds them)")
    args = parser.parse_args()
    if args.same_prompts:
        global PROMPTS
        PROMPTS = itertools.cycle(range(100_000, 100_064))
    binary, why = llama_server_binary()
    if binary is None:
        print(f"llama-server missing: {why}", file=sys.stderr)
        return 1
    counts = [int(c) for c in args.clients.split(",")]
    reference = LlamaServer(binary, args.model, ctx=args.ctx * args.slots)
    reference.cmd[reference.cmd.index("-np") + 1] = str(args.slots)
    if args.threads:
        reference.cmd[reference.cmd.index("-t") + 1] = str(args.threads)
    else:  # llama-server's own default: one thread per physical core
        del reference.cmd[reference.cmd.index("-t"):reference.cmd.index("-t") + 2]
    reference.cmd += ["-fa", args.flash_attn]
    hearth_n = HearthServer(args.model, args.threads, args.ctx, args.slots, args.flash_attn)
    hearth_auto = HearthServer(args.model, args.threads, args.ctx, None, args.flash_attn)
    chosen: list[tuple[str, HearthServer | LlamaServer]] = [(f"hearth --parallel {args.slots}", hearth_n)]
    if not args.no_default:
        chosen.append(("hearth (default)", hearth_auto))
    chosen.append((f"llama-server -np {args.slots}", reference))
    names = [name for name, _ in chosen]
    servers: dict[str, str] = {}
    pids: dict[str, int] = {}
    for name, server in chosen:
        server.start()
        servers[name] = server.url
        assert server.process is not None
        pids[name] = server.process.pid
    speed: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}  # CPU ms per completion token
    ttft: dict[tuple[str, str], list[float]] = {}
    try:
        for url in servers.values():
            one_request(url, 9999, 8)  # warm-up: the weights are read in
        for r in range(args.rounds):
            for name in rotate(names, r):
                url = servers[name]
                for clients in counts:
                    before, t0 = {n: cpu_seconds(pid) for n, pid in pids.items()}, time.perf_counter()
                    tok_s = aggregate_tok_s(url, clients, args.requests, args.max_tokens)
                    wall = time.perf_counter() - t0
                    used = {n: cpu_seconds(pid) - before[n] for n, pid in pids.items()}
                    speed.setdefault((name, clients), []).append(tok_s)
                    cpu.setdefault((name, clients), []).append(1000 * used[name] / (tok_s * wall))
                    idle = sum(v for n, v in used.items() if n != name)  # the others should be asleep
                    print(f"  {name}, {clients} clients: {tok_s:.1f} tok/s; the idle servers used "
                          f"{100 * idle / wall:.1f}% of a core meanwhile", file=sys.stderr)
                ttft.setdefault((name, "idle"), []).append(newcomer_ttft(url, 0, 0))
                ttft.setdefault((name, "busy"), []).append(newcomer_ttft(url, args.slots - 1, 4 * args.max_tokens))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        hearth_n.stop()
        hearth_auto.stop()
        reference.stop()
    print(f"model {args.model.name}, greedy, {args.max_tokens} tokens max per reply, {args.threads} threads, "
          f"flash attention {args.flash_attn}, {'the same 64 prompts again and again, ' if args.same_prompts else ''}"
          f"{args.ctx} tokens of context per sequence, median of {args.rounds} rounds (servers alternating)")
    ref = names[-1]
    rows = []
    for clients in counts:
        base = statistics.median(speed[(ref, clients)])
        for name in names:
            value = statistics.median(speed[(name, clients)])
            paired = [a / b for a, b in zip(speed[(name, clients)], speed[(ref, clients)], strict=True)]
            rows.append([name, clients, f"{value:.1f}", f"{value / base:.2f}x",
                         f"{statistics.median(paired):.2f} [{min(paired):.2f}-{max(paired):.2f}]",
                         f"{statistics.median(cpu[(name, clients)]):.1f}"])
    print_table(["server", "clients", "aggregate tokens/s", "vs llama-server (medians)",
                 "same round, median [range]", "CPU ms/token"], rows)
    print()
    rows = []
    for name in names:
        idle, busy = statistics.median(ttft[(name, "idle")]), statistics.median(ttft[(name, "busy")])
        rows.append([name, f"{idle * 1000:.0f}", f"{busy * 1000:.0f}", f"{busy / idle:.2f}x"])
    print_table(["server", "newcomer TTFT idle ms", f"busy ({args.slots - 1} streaming) ms", "busy / idle"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
