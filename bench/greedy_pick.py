"""Cost of picking one greedy token from a model's logits: Hearth's numpy argmax against llama.cpp's own samplers.

    python bench/greedy_pick.py                       # Gemma 3 270M (262k vocabulary) and SmolLM2 (49k) when cached
    python bench/greedy_pick.py --model A.gguf --vocab qwen2 --repeat 2000

After one real decode the logits stay in llama.cpp's buffer and each way picks from them many
times (alternating, median of the rounds): `argmax` is what a greedy reply runs per token
(sampler_chain.argmax_picker); `llama greedy` is llama_sampler_sample with llama.cpp's greedy
sampler (what a llama.cpp greedy chain costs: it copies the vocabulary into a candidate array
first); `llama top-k 1` adds the top-k sampler llama-server's greedy chain starts with. Every
way must pick the same token (checked). Target: argmax no slower than `llama greedy`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import llama_cpp
from _common import print_table
from engine_throughput import GEMMA3, SMOLLM2, vocab_model

from app.engine.protocol import ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampler_chain import argmax_picker
from app.engine.sampling import SamplingParams


def chain(*samplers: object) -> object:
    made = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    for sampler in samplers:
        llama_cpp.llama_sampler_chain_add(made, sampler)
    return made


def time_per_call(pick: Callable[[], int], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        pick()
    return (time.perf_counter() - start) / repeat


def measure(path: Path, repeat: int, rounds: int) -> list[str]:
    model = LoadedModel(LoadOptions(str(path), n_ctx=512, n_threads=1))
    try:
        # one greedy token: the prompt is evaluated and its logits stay in llama.cpp's buffer
        model.generate([ChatMessage("user", "Tell me about Paris.")],
                       SamplingParams(temperature=0.0, repeat_penalty=1.0, max_tokens=1), lambda text, n: None)
        greedy = chain(llama_cpp.llama_sampler_init_greedy())
        top1 = chain(llama_cpp.llama_sampler_init_top_k(1), llama_cpp.llama_sampler_init_greedy())
        ways: dict[str, Callable[[], int]] = {
            "argmax": argmax_picker(model.ctx, model.n_vocab),
            "llama greedy": lambda: int(llama_cpp.llama_sampler_sample(greedy, model.ctx, -1)),
            "llama top-k 1": lambda: int(llama_cpp.llama_sampler_sample(top1, model.ctx, -1)),
        }
        picked = {name: pick() for name, pick in ways.items()}
        if len(set(picked.values())) != 1:
            raise SystemExit(f"the ways disagree on {path.name}: {picked}")
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(rounds):
            for name, pick in ways.items():
                times[name].append(time_per_call(pick, repeat))
        llama_cpp.llama_sampler_free(greedy)
        llama_cpp.llama_sampler_free(top1)
        us = {name: statistics.median(values) * 1e6 for name, values in times.items()}
        return [path.name, f"{model.n_vocab // 1000}k", f"{us['argmax']:.1f}", f"{us['llama greedy']:.1f}",
                f"{us['llama top-k 1']:.1f}", f"{us['argmax'] / us['llama greedy']:.2f}"]
    finally:
        model.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, action="append", default=[])
    parser.add_argument("--vocab", action="append", default=[], metavar="NAME",
                        help="random weights with llama.cpp's models/ggml-vocab-NAME.gguf (as engine_throughput.py)")
    parser.add_argument("--repeat", type=int, default=500, help="picks per timing")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    models = list(args.model) + [vocab_model(name) for name in args.vocab]
    if not models:
        models = [path for path in (GEMMA3, SMOLLM2) if path.exists()]
    if not models:
        parser.error("no model: give --model or --vocab")
    rows = [measure(path, args.repeat, args.rounds) for path in models]
    print(f"\nmicroseconds per greedy pick (median of {args.rounds} rounds of {args.repeat}; one thread)\n",
          file=sys.stderr)
    print_table(["model", "vocab", "argmax µs", "llama greedy µs", "llama top-k 1 µs", "argmax / llama greedy"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
