"""Decode and prompt speed of Hearth's engine against llama.cpp's own tools.

Builds llama-server and llama-bench from the llama.cpp source that the
installed llama-cpp-python vendors (cached in ~/.cache/hearth/llama-ref, or
$HEARTH_REF_DIR), runs them and our engine on the same model with the same
threads, offload and greedy sampling, and prints a table with the ratio.

    python bench/engine_throughput.py                      # generated model + SmolLM2 if cached
    python bench/engine_throughput.py --model A.gguf --model B.gguf --threads 2
    python bench/engine_throughput.py --model PATH --gpu-layers -1 [--backend-sampling]
    python bench/engine_throughput.py --server-stream     # llama-server streams its reply too
    python bench/engine_throughput.py --depth 1500        # replies decoded after a long system prompt
    python bench/engine_throughput.py --ref-bin DIR ...   # llama-server/llama-bench already built in DIR
    python bench/engine_throughput.py --vocab qwen2        # random weights with Qwen2.5's 151k vocabulary
    python bench/engine_throughput.py --vocab gemma-4 --vocab llama-bpe --rounds 30
    python bench/engine_throughput.py --gemma3 --smollm2   # the real test models from ~/.cache/hearth/test-models

--vocab NAME writes (once, cached) a model with random f16 weights (512 wide, 8 layers) carrying the
real vocabulary of llama.cpp's models/ggml-vocab-NAME.gguf (its tokenizer, merges and chat
template), so the per-token cost that grows with the vocabulary shows on any machine.

Each ratio is the median of the pairwise ratios; the interval after it is a 90% bootstrap
interval for that median. On a shared machine single pairs swing by 10-20%, so run 30 or
more pairs (--runs) before reading a difference of a few percent. "best" columns divide
each engine's fastest reply by the other's: other load only ever slows a reply down, so
with many pairs the fastest ones show each engine undisturbed.

Our engine always streams its reply to another process (the app's), as it must; llama-server
by default sends its reply in one piece at the end, the harder reference. --server-stream
makes it stream as well (server-sent events, one per token), as it does for a chat app.
Who goes first alternates from pair to pair.

--flash-attn auto (the default) compares each engine's default, which differ on the CPU:
ours turns flash attention off there, llama-server's automatic choice turns it on. Use
--flash-attn on or off to compare the same computation.
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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from _common import ROOT, median_interval, print_table

FLASH_ATTN = {"auto": None, "on": True, "off": False}  # --flash-attn -> LoadOptions.flash_attn
TEST_MODELS = Path.home() / ".cache" / "hearth" / "test-models"
SMOLLM2 = TEST_MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3 = TEST_MODELS / "gemma-3-270m-q4_k_m.gguf"
# About 40 tokens of chat prompt (55 with SmolLM2's default system prompt); it asks for a long answer so that greedy
# decoding runs the full token count on real models (llama-server is told to ignore EOS).
CHAT_MESSAGE = ("Write a long, detailed essay about the history of the city of Paris, from the Romans to "
                "today, with many paragraphs.")


def reference_dir() -> Path:
    return Path(os.environ.get("HEARTH_REF_DIR", Path.home() / ".cache" / "hearth" / "llama-ref"))


def engine_cmake_args() -> list[str]:
    """The CMake arguments `make install` builds llama-cpp-python with (the Makefile's ENGINE_CMAKE_ARGS)."""
    import shlex

    from app.engine import amx_guard

    if not amx_guard.cpu_has_amx() or not Path("/proc/cpuinfo").exists():  # the Makefile's condition
        return []
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("ENGINE_CMAKE_ARGS ?="):
            return shlex.split(line.partition("?=")[2])
    return []


def llama_cpp_version() -> str:
    try:
        return metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:  # llama_cpp on PYTHONPATH from its source (the GPU recipe)
        import llama_cpp

        return llama_cpp.__version__


def build_reference(cmake_args: list[str]) -> Path:
    """Build llama-server and llama-bench once per set of CMake arguments; return the folder holding them."""
    version = llama_cpp_version()
    base = reference_dir() / version
    bin_dir = base / "build" / "bin"
    stamp = base / "build" / "hearth-cmake-args.json"
    built_with = json.loads(stamp.read_text()) if stamp.exists() else None
    if (bin_dir / "llama-server").exists() and (bin_dir / "llama-bench").exists() and built_with == cmake_args:
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
    shutil.rmtree(build, ignore_errors=True)  # CMake keeps cached flags that these arguments no longer give
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
    stamp.write_text(json.dumps(cmake_args))
    return bin_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """llama-server on a free loopback port, for as long as the `with` lasts."""

    def __init__(self, bin_dir: Path, model: Path, args, template_file: Path | None = None) -> None:
        self.port = free_port()
        cmd = [str(bin_dir / "llama-server"), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
               "-t", str(args.threads), "-c", str(args.ctx),
               "-ngl", str(args.gpu_layers if args.gpu_layers >= 0 else 999), "-np", "1", "--no-webui"]
        cmd += ["-fa", args.flash_attn]
        if args.backend_sampling:
            cmd += ["--backend-sampling"]
        if getattr(args, "swa_full", False):
            cmd += ["--swa-full"]
        if template_file is not None:
            cmd += ["--chat-template-file", str(template_file)]
        self.cmd = cmd

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with code {self.process.returncode} while starting; "
                                   f"run it by hand to see why: {' '.join(self.cmd)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError("llama-server did not start within 120 s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def chat(self, message: str, n_predict: int, stream: bool = False, system: str = "") -> dict:
        """One greedy chat reply of exactly n_predict tokens; returns llama-server's timings.

        With `stream` the reply comes as server-sent events, read as they arrive, as a chat
        app reads them (our engine always streams to the app's process).
        """
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": message}]
        body = json.dumps({"messages": messages, "max_tokens": n_predict,
                           "temperature": 0, "top_k": 1, "cache_prompt": True, "ignore_eos": True,
                           "samplers": ["top_k"], "stream": stream}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            if not stream:
                return json.loads(r.read())["timings"]
            timings = None
            for line in r:
                if line.startswith(b"data: {"):
                    timings = json.loads(line[6:]).get("timings") or timings
            if timings is None:
                raise RuntimeError("llama-server's stream ended without timings")
            return timings


def run_llama_bench(bin_dir: Path, model: Path, args, n_predict: int) -> dict:
    cmd = [str(bin_dir / "llama-bench"), "-m", str(model), "-t", str(args.threads), "-p", "512", "-n", str(n_predict),
           "-ngl", str(args.gpu_layers if args.gpu_layers >= 0 else 999), "-o", "json", "-r", "3"]
    cmd += ["-fa", args.flash_attn]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)
    return {("pp" if r["n_prompt"] else "tg"): r["avg_ts"] for r in rows}


@dataclass
class Pair:
    """One reply from each engine for the same chat message, run back to back."""

    ours_decode: float
    ours_prompt: float
    ours_tokens: int
    server_decode: float
    server_prompt: float
    ours_cpu: float = 0.0  # seconds of CPU the engine's process ran for the reply (all its threads)
    server_cpu: float = 0.0


def cpu_seconds(pid: int | None) -> float:
    """CPU time a process's threads have run so far (Linux schedstat, nanoseconds); 0.0 where unknown.

    Unlike wall-clock speed it does not count time spent waiting for a core, so on a busy
    machine the ratio of two engines' CPU per reply still compares their work (at one thread;
    with more, spinning threads count too)."""
    if pid is None:
        return 0.0
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as stat:
                total += int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return total / 1e9


def long_system_prompt(tokens: int) -> str:
    """About `tokens` tokens of system prompt (0: none), so replies are decoded deep in the context.

    Both engines keep it in their prompt cache after the first reply, so each reply still
    evaluates only its own user message, as a long chat's next turn does."""
    if tokens <= 0:
        return ""
    sentence = ("Paris grew from a small settlement of the Parisii on an island in the Seine into a Roman town, "
                "a royal capital and a great modern city. ")  # about 30 tokens in the usual vocabularies
    return "Background notes for the answer. " + sentence * max(tokens // 30, 1)


def same_template_file(chat_template: str, folder: Path) -> Path | None:
    """The template our engine chose, as a file for llama-server, when it is not the GGUF's own.

    A GGUF without a chat template (the registry's Gemma 3 270M) gets one of our built-in
    templates by its vocabulary's control tokens, while llama-server falls back to ChatML: the
    two engines then read different prompts (43 tokens against 29 for the bench's message), and
    a prompt's fixed cost (the last token's 262k logits) spreads over different counts."""
    from app.engine.builtin_templates import BUILTINS, CHATML, COMPLETION

    sources = {f"builtin:{name}": source for name, _marker, source in BUILTINS}
    sources.update({"default": CHATML, "completion": COMPLETION})
    source = sources.get(chat_template)
    if source is None:  # "gguf" (llama-server reads the same one) or "file"
        return None
    path = folder / "hearth-template.jinja"
    path.write_text(source, encoding="utf-8")
    return path


def run_alternating(bin_dir: Path, model: Path, args) -> list[Pair]:
    """Our engine and llama-server, one reply each in turn, so machine noise hits both alike."""
    from app.engine import EngineClient, LoadOptions, SamplingParams

    pairs: list[Pair] = []
    system = long_system_prompt(args.depth)
    greedy = SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=args.tokens)
    with EngineClient() as engine, tempfile.TemporaryDirectory() as scratch:
        info = engine.load(LoadOptions(str(model), n_ctx=args.ctx, n_gpu_layers=args.gpu_layers,
                                       flash_attn=FLASH_ATTN[args.flash_attn], n_threads=args.threads))
        with Server(bin_dir, model, args, same_template_file(info.chat_template, Path(scratch))) as server:
            run_pairs(engine, server, model, args, system, greedy, pairs)
    return pairs


def run_pairs(engine, server: Server, model: Path, args, system: str, greedy, pairs: list[Pair]) -> None:
    """args.runs + 1 replies from each engine in turn (the first pair only warms both up)."""
    from app.engine import ChatMessage, Done

    for i in range(args.runs + 1):
        # a different first word each run so no prompt is served from a cache
        message = f"{i}. {args.message}"
        done = None
        ours_cpu = 0.0

        def ours(message: str) -> None:
            nonlocal done, ours_cpu
            time.sleep(args.settle)
            history = [ChatMessage("system", system)] if system else []
            before = cpu_seconds(engine.pid)
            for event in engine.chat(history + [ChatMessage("user", message)], greedy):
                if isinstance(event, Done):
                    done = event.stats
            ours_cpu = cpu_seconds(engine.pid) - before

        # who goes first swaps every run: whatever one engine leaves behind (a warm cache,
        # a process still finishing) then helps and hurts both alike
        if i % 2 == 0:
            ours(message)
        time.sleep(args.settle)
        before = cpu_seconds(server.process.pid)
        timings = server.chat(message, args.tokens, args.server_stream, system)
        server_cpu = cpu_seconds(server.process.pid) - before
        if i % 2 == 1:
            ours(message)
        if i > 0 and done is not None:  # run 0 warms both up
            pair = Pair(done.decode_tok_s, done.prompt_tok_s, done.completion_tokens,
                        timings["predicted_per_second"], timings["prompt_per_second"], ours_cpu, server_cpu)
            pairs.append(pair)
            print(f"  {model.name} pair {i}: decode {pair.ours_decode:.1f}/{pair.server_decode:.1f} "
                  f"cpu {pair.ours_cpu:.2f}/{pair.server_cpu:.2f} s "
                  f"prompt {pair.ours_prompt:.0f}/{pair.server_prompt:.0f} "
                  f"({done.prompt_tokens - done.cached_tokens}/{timings.get('prompt_n', '?')} new tokens)",
                  file=sys.stderr)


def default_models() -> list[Path]:
    from tests.support.tiny_gguf import write_tiny_model

    folder = reference_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench-small-e512-l8.gguf"
    if not path.exists():
        write_tiny_model(path, n_embd=512, n_layers=8, n_head=8, n_head_kv=4, n_ff=1536, context_length=4096,
                         name="bench small")
    models = [path]
    if SMOLLM2.exists():
        models.append(SMOLLM2)
    return models


def vocab_model(name: str) -> Path:
    """Random weights carrying llama.cpp's models/ggml-vocab-NAME.gguf, written once into the reference folder."""
    from tests.support.real_vocab_model import VOCABS, write_real_vocab_model

    vocab_file = VOCABS / f"ggml-vocab-{name}.gguf"
    if not vocab_file.exists():
        known = sorted(p.stem.removeprefix("ggml-vocab-") for p in VOCABS.glob("ggml-vocab-*.gguf"))
        raise SystemExit(f"no vocabulary {name!r} in {VOCABS} (run once without --vocab to fetch the source); "
                         f"known: {', '.join(known) or 'none'}")
    path = reference_dir() / "models" / f"random-{name}-vocab-e512-l8.f16.gguf"
    if not path.exists():
        print(f"writing {path.name} (once) ...", file=sys.stderr)
        write_real_vocab_model(path, vocab_file)
    return path


def model_row(model: Path, pairs: list[Pair], bench: dict) -> list[str]:
    # Each reply of ours is paired with the server reply right after it: the median of the
    # pairwise ratios is robust to the machine's slow drifts and to other load on it.
    med = statistics.median
    decode_pairs = sorted(p.ours_decode / p.server_decode for p in pairs)
    prompt_pairs = [p.ours_prompt / p.server_prompt for p in pairs]
    decode_ratio, prompt_ratio = med(decode_pairs), med(prompt_pairs)
    d_low, d_high = median_interval(decode_pairs)
    p_low, p_high = median_interval(prompt_pairs)
    return [
        model.name,
        f"{med(p.ours_decode for p in pairs):.1f}",
        f"{med(p.server_decode for p in pairs):.1f}",
        f"{decode_ratio:.3f} [{d_low:.3f}-{d_high:.3f}]",
        f"{decode_pairs[0]:.2f}-{decode_pairs[-1]:.2f}",
        f"{med(p.ours_prompt for p in pairs):.0f}",
        f"{med(p.server_prompt for p in pairs):.0f}",
        f"{prompt_ratio:.3f} [{p_low:.3f}-{p_high:.3f}]",
        f"{max(p.ours_decode for p in pairs) / max(p.server_decode for p in pairs):.3f}",
        f"{max(p.ours_prompt for p in pairs) / max(p.server_prompt for p in pairs):.3f}",
        f"{bench.get('tg', 0):.1f}" if bench else "-",
        str(min(p.ours_tokens for p in pairs)),
    ]


def vocab_size(model: Path) -> str:
    """The vocabulary's size from the GGUF header ("?" when unreadable), for the summary table."""
    try:
        from app.library.gguf_info import read_gguf_info

        return f"{read_gguf_info(str(model)).vocab_size // 1000}k"
    except Exception:  # noqa: BLE001 - a label only
        return "?"


def summary_row(model: Path, pairs: list[Pair]) -> list[str]:
    """The short row the docs' table quotes: medians and the pairwise ratios."""
    med = statistics.median
    return [
        model.name, vocab_size(model),
        f"{med(p.ours_decode for p in pairs):.1f}", f"{med(p.server_decode for p in pairs):.1f}",
        f"{med(p.ours_decode / p.server_decode for p in pairs):.3f}",
        f"{med(p.ours_prompt for p in pairs):.0f}", f"{med(p.server_prompt for p in pairs):.0f}",
        f"{med(p.ours_prompt / p.server_prompt for p in pairs):.3f}",
        f"{med(p.server_cpu / p.ours_cpu for p in pairs):.3f}" if all(p.ours_cpu > 0 for p in pairs) else "-",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, action="append",
                        help="GGUF model; give it more than once (default: a generated 8-layer model, plus "
                             "the real SmolLM2-135M test model when it is cached)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--flash-attn", choices=sorted(FLASH_ATTN), default="auto",
                        help="on/off: both engines alike; auto: each engine's default, what its users get "
                             "(ours: off when all layers run on the CPU; llama-server: llama.cpp decides per device, "
                             "on for the CPU)")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", "--rounds", dest="runs", type=int, default=5,
                        help="pairs of replies per model (one of each engine, alternating); 30+ on a shared machine")
    parser.add_argument("--vocab", action="append", default=[], metavar="NAME",
                        help="random weights with llama.cpp's models/ggml-vocab-NAME.gguf vocabulary (qwen2: Qwen2.5, "
                             "151k; gemma-4: 262k; llama-bpe: Llama 3, 128k; ...); give it more than once")
    parser.add_argument("--swa-full", action="store_true",
                        help="llama-server keeps a full-size sliding-window cache as our engine does (llama.cpp's "
                             "library default), so on Gemma 3 it reuses its prompt cache and both evaluate the same "
                             "new tokens; by default it re-evaluates the whole prompt there (a larger, faster batch)")
    parser.add_argument("--smollm2", action="store_true", help=f"the real SmolLM2-135M ({SMOLLM2})")
    parser.add_argument("--gemma3", action="store_true", help=f"the real Gemma 3 270M ({GEMMA3})")
    parser.add_argument("--message", default=CHAT_MESSAGE, help="the user message (about 40-55 tokens rendered)")
    parser.add_argument("--settle", type=float, default=0.3,
                        help="seconds of quiet before each reply, so neither engine's after-work (llama-server "
                             "stores the finished prompt in its cache) overlaps the other's reply")
    parser.add_argument("--llama-bench", action="store_true", help="also run llama-bench tg (slow)")
    parser.add_argument("--backend-sampling", action="store_true",
                        help="pick tokens inside the graph in both engines (HEARTH_BACKEND_SAMPLING=1, "
                             "llama-server --backend-sampling)")
    parser.add_argument("--server-stream", action="store_true",
                        help="llama-server streams its reply (server-sent events) as our engine does; by default "
                             "it sends the whole reply at the end, which spares it waking its client per token")
    parser.add_argument("--cmake-args", default=None,
                        help="for llama-server's build (default: the Makefile's ENGINE_CMAKE_ARGS, then $CMAKE_ARGS)")
    parser.add_argument("--depth", type=int, default=0,
                        help="about this many tokens of system prompt before the message, so decoding runs deep "
                             "in the context as in a long chat (default 0)")
    parser.add_argument("--ref-bin", type=Path, default=None,
                        help="a folder with llama-server and llama-bench already built from the same llama.cpp "
                             "(for example the CUDA build on a GPU machine); nothing is built or downloaded")
    args = parser.parse_args()
    from app.engine.llama_backend import default_threads

    args.threads = args.threads or default_threads()
    if args.backend_sampling:
        os.environ["HEARTH_BACKEND_SAMPLING"] = "1"  # the engine process inherits it
    import shlex

    # under make, $CMAKE_ARGS already starts with the Makefile's flags: each argument once
    cmake_args = (shlex.split(args.cmake_args) if args.cmake_args is not None
                  else list(dict.fromkeys(engine_cmake_args() + shlex.split(os.environ.get("CMAKE_ARGS", "")))))
    bin_dir = args.ref_bin or build_reference(cmake_args)
    if not (bin_dir / "llama-server").exists():
        parser.error(f"no llama-server in {bin_dir}")
    models = list(args.model or [])
    models += [path for wanted, path in ((args.smollm2, SMOLLM2), (args.gemma3, GEMMA3)) if wanted]
    models += [vocab_model(name) for name in args.vocab]  # after build_reference: it fetches the vocab files
    if not models:
        models = default_models()
    missing = [str(path) for path in models if not path.exists()]
    if missing:
        parser.error(f"no such model: {', '.join(missing)}")

    rows, summary = [], []
    for model in models:
        pairs = run_alternating(bin_dir, model, args)
        bench = run_llama_bench(bin_dir, model, args, args.tokens) if args.llama_bench else {}
        rows.append(model_row(model, pairs, bench))
        summary.append(summary_row(model, pairs))
    print(f"\nthreads: {args.threads}  gpu layers: {args.gpu_layers}  flash attn: {args.flash_attn}  "
          f"backend sampling: {args.backend_sampling}  server streams: {args.server_stream}  "
          f"ctx: {args.ctx}  depth: {args.depth}  new tokens: {args.tokens}  "
          f"pairs: {args.runs} (alternating; ratio = median of pair ratios [90% interval])\n")
    print_table(
        ["model", "decode tok/s", "server", "decode ratio", "pairs", "prompt tok/s", "server",
         "prompt ratio", "best decode", "best prompt", "llama-bench tg", "our tokens"],
        rows,
    )
    print("\nsummary (medians; ratio = median of the pair ratios, Hearth / llama-server; cpu ratio: CPU time "
          "per reply, llama-server / Hearth, above 1 when Hearth does less work):\n")
    print_table(["model", "vocab", "Hearth decode", "server decode", "decode ratio", "Hearth prompt",
                 "server prompt", "prompt ratio", "cpu ratio"], summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
