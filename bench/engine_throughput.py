"""Decode and prompt speed of Hearth's engine against llama.cpp's own tools.

Builds llama-server and llama-bench from the llama.cpp source that the
installed llama-cpp-python vendors (cached in ~/.cache/hearth/llama-ref, or
$HEARTH_REF_DIR), runs them and our engine on the same model with the same
threads, offload and greedy sampling, and prints a table with the ratio.

    python bench/engine_throughput.py                      # a generated small model
    python bench/engine_throughput.py --model PATH --gpu-layers -1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

from _common import ROOT, print_table  # noqa: F401

PROMPT_WORDS = "the chat model is a token and the user " * 60


def reference_dir() -> Path:
    return Path(os.environ.get("HEARTH_REF_DIR", Path.home() / ".cache" / "hearth" / "llama-ref"))


def build_reference(cmake_args: list[str]) -> Path:
    """Build llama-server and llama-bench once; return the folder holding them."""
    version = metadata.version("llama-cpp-python")
    base = reference_dir() / version
    bin_dir = base / "build" / "bin"
    if (bin_dir / "llama-server").exists() and (bin_dir / "llama-bench").exists():
        return bin_dir
    base.mkdir(parents=True, exist_ok=True)
    src = base / "src"
    if not (src / "vendor" / "llama.cpp" / "CMakeLists.txt").exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                 f"llama-cpp-python=={version}", "-d", tmp],
                check=True,
            )
            archive = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            unpacked = next(p for p in Path(tmp).iterdir() if p.is_dir())
            shutil.rmtree(src, ignore_errors=True)
            shutil.move(str(unpacked), src)
    llama_src = src / "vendor" / "llama.cpp"
    build = base / "build"
    print(f"building llama-server and llama-bench from {llama_src} (once) ...", file=sys.stderr)
    subprocess.run(
        ["cmake", "-S", str(llama_src), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF",
         "-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_TESTS=OFF",
         "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_OPENSSL=OFF", *cmake_args],
        check=True, stdout=subprocess.DEVNULL,
    )
    jobs = str(os.cpu_count() or 2)
    subprocess.run(["cmake", "--build", str(build), "-j", jobs, "--target", "llama-server", "llama-bench"],
                   check=True, stdout=subprocess.DEVNULL)
    return bin_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """llama-server on a free loopback port, for as long as the `with` lasts."""

    def __init__(self, bin_dir: Path, model: Path, args) -> None:
        self.port = free_port()
        cmd = [str(bin_dir / "llama-server"), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
               "-t", str(args.threads), "-c", str(args.ctx),
               "-ngl", str(args.gpu_layers if args.gpu_layers >= 0 else 999), "-np", "1", "--no-webui"]
        cmd += ["-fa", "on" if args.flash_attn else "off"]
        self.cmd = cmd

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("llama-server did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def complete(self, prompt: str, n_predict: int) -> dict:
        body = json.dumps({"prompt": prompt, "n_predict": n_predict, "temperature": 0, "top_k": 1,
                           "cache_prompt": False, "ignore_eos": True, "samplers": ["top_k"]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/completion", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())["timings"]


def run_llama_bench(bin_dir: Path, model: Path, args, n_predict: int) -> dict:
    cmd = [str(bin_dir / "llama-bench"), "-m", str(model), "-t", str(args.threads), "-p", "512", "-n", str(n_predict),
           "-ngl", str(args.gpu_layers if args.gpu_layers >= 0 else 999), "-o", "json", "-r", "3"]
    if args.flash_attn:
        cmd += ["-fa", "1"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)
    return {("pp" if r["n_prompt"] else "tg"): r["avg_ts"] for r in rows}


def run_alternating(bin_dir: Path, model: Path, args) -> tuple[list, list[dict]]:
    """Our engine and llama-server, one reply each in turn, so machine noise hits both alike."""
    from app.engine import ChatMessage, Done, EngineClient, LoadOptions, SamplingParams

    ours, server_timings = [], []
    greedy = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=args.tokens)
    with EngineClient() as engine, Server(bin_dir, model, args) as server:
        engine.load(LoadOptions(str(model), n_ctx=args.ctx, n_gpu_layers=args.gpu_layers,
                                flash_attn=bool(args.flash_attn), n_threads=args.threads))
        for i in range(args.runs + 1):
            # a different first word each run so no prompt is served from a cache
            prompt = f"{i} " + PROMPT_WORDS
            for event in engine.chat([ChatMessage("user", prompt)], greedy):
                if isinstance(event, Done) and i > 0:  # run 0 warms both up
                    ours.append(event.stats)
            timings = server.complete(prompt, args.tokens)
            if i > 0:
                server_timings.append(timings)
    return ours, server_timings


def make_default_model() -> Path:
    from tests.support.tiny_gguf import write_tiny_model

    folder = reference_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench-small-e512-l8.gguf"
    if not path.exists():
        write_tiny_model(path, n_embd=512, n_layers=8, n_head=8, n_head_kv=4, n_ff=1536, context_length=4096,
                         name="bench small")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF model (default: a generated 8-layer model)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--flash-attn", action="store_true")
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--cmake-args", default=os.environ.get("CMAKE_ARGS", ""))
    args = parser.parse_args()
    from app.engine.runtime import default_threads

    args.threads = args.threads or default_threads()
    model = args.model or make_default_model()
    bin_dir = build_reference(args.cmake_args.split())

    ours, server = run_alternating(bin_dir, model, args)
    bench = run_llama_bench(bin_dir, model, args, args.tokens)

    # Each run of ours is paired with the server run right after it: the median of the
    # pairwise ratios is robust to the machine's slow drifts.
    paired = statistics.median(o.decode_tok_s / t["predicted_per_second"] for o, t in zip(ours, server))
    our_tg = statistics.median(s.decode_tok_s for s in ours)
    our_pp = statistics.median(s.prompt_tok_s for s in ours)
    srv_tg = statistics.median(t["predicted_per_second"] for t in server)
    srv_pp = statistics.median(t["prompt_per_second"] for t in server)
    print(f"\nmodel: {model.name}  threads: {args.threads}  gpu layers: {args.gpu_layers}  "
          f"flash attn: {args.flash_attn}  tokens: {args.tokens}  runs: {args.runs} (median)\n")
    print(f"paired decode ratio (median of {len(ours)} back-to-back pairs): {paired:.3f}\n")
    print_table(
        ["engine", "decode tok/s", "prompt tok/s", "decode vs llama-server"],
        [
            ["hearth (lean C-API loop)", f"{our_tg:.1f}", f"{our_pp:.1f}", f"{our_tg / srv_tg:.3f}"],
            ["llama-server (greedy)", f"{srv_tg:.1f}", f"{srv_pp:.1f}", "1.000"],
            ["llama-bench tg/pp512", f"{bench.get('tg', 0):.1f}", f"{bench.get('pp', 0):.1f}",
             f"{bench.get('tg', 0) / srv_tg:.3f}"],
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
