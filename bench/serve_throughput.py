"""Hearth's OpenAI-compatible server against llama-server on the same model.

For 1, 2 and 4 concurrent clients (each streaming chat requests one after another),
prints requests/s, time to first token p50/p95 and generated tokens/s, for both.
llama-server runs with one slot by default (as Hearth: one request at a time);
--server-slots lets it batch clients in parallel.

    python bench/serve_throughput.py --model ~/.cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import httpx
from _common import ROOT, print_table

from tests.support.servers import LlamaServer, free_port, llama_server_binary

TOPICS = ["rivers", "bread", "the moon", "trains", "bees", "glass", "chess", "rain", "maps", "salt", "owls", "clocks"]


def start_hearth(model: Path, threads: int, ctx: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--model", str(model), "--port", str(port),
                                "--threads", str(threads), "--ctx", str(ctx), "--gpu-layers", "0"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("hearth serve exited")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("hearth serve did not start")


def one_request(url: str, n: int, max_tokens: int) -> tuple[float, int, float]:
    """(time to first token, completion tokens, total seconds) of one streamed chat request."""
    body = {"model": "m", "messages": [{"role": "user", "content": f"{n}. Tell me about {TOPICS[n % len(TOPICS)]}."}],
            "temperature": 0, "max_tokens": max_tokens, "stream": True, "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    ttft, tokens, deltas = 0.0, 0, 0
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=600) as response:
        response.raise_for_status()
        import json

        for line in response.iter_lines():
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            payload = json.loads(line[5:])
            if payload.get("usage"):
                tokens = payload["usage"]["completion_tokens"]
            for choice in payload.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    deltas += 1
                    if not ttft:
                        ttft = time.perf_counter() - t0
    return ttft, tokens or deltas, time.perf_counter() - t0


def run_clients(url: str, clients: int, per_client: int, max_tokens: int) -> dict:
    results: list[tuple[float, int, float]] = []
    lock = threading.Lock()
    counter = iter(range(10_000))

    def client() -> None:
        for _ in range(per_client):
            with lock:
                n = next(counter)
            result = one_request(url, n, max_tokens)
            with lock:
                results.append(result)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ttfts = sorted(r[0] for r in results)
    p95 = ttfts[min(len(ttfts) - 1, round(0.95 * (len(ttfts) - 1)))]
    return {"rps": len(results) / wall, "ttft_p50": statistics.median(ttfts), "ttft_p95": p95,
            "tok_s": sum(r[1] for r in results) / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path,
                        default=Path.home() / ".cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--clients", default="1,2,4")
    parser.add_argument("--requests", type=int, default=4, help="requests per client")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--server-slots", type=int, default=1, help="llama-server parallel slots")
    args = parser.parse_args()
    binary, why = llama_server_binary()
    if binary is None:
        print(f"llama-server missing: {why}", file=sys.stderr)
        return 1
    counts = [int(c) for c in args.clients.split(",")]
    rows = []
    hearth, hearth_url = start_hearth(args.model, args.threads, args.ctx)
    reference = LlamaServer(binary, args.model, ctx=args.ctx * args.server_slots)
    reference.cmd[reference.cmd.index("-np") + 1] = str(args.server_slots)
    reference.cmd[reference.cmd.index("-t") + 1] = str(args.threads)
    reference.start()
    try:
        for url in (hearth_url, reference.url):
            one_request(url, 9999, 8)  # warm-up
        for clients in counts:
            for name, url in (("hearth", hearth_url), ("llama-server", reference.url)):
                r = run_clients(url, clients, args.requests, args.max_tokens)
                rows.append([name, clients, clients * args.requests, f"{r['rps']:.2f}", f"{r['ttft_p50'] * 1000:.0f}",
                             f"{r['ttft_p95'] * 1000:.0f}", f"{r['tok_s']:.1f}"])
    finally:
        hearth.terminate()
        hearth.wait(timeout=20)
        reference.stop()
    print(f"model {args.model.name}, {args.max_tokens} tokens max per reply, {args.threads} threads, "
          f"llama-server slots {args.server_slots}")
    print_table(["server", "clients", "requests", "req/s", "TTFT p50 ms", "TTFT p95 ms", "tokens/s"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
