"""What per-token probabilities cost in decode speed, and that asking for none costs nothing.

    python bench/probs_cost.py                        # probabilities off vs on (top 5), this tree
    python bench/probs_cost.py --against /work/main   # off, this tree vs another checkout of Hearth

Both modes alternate who goes first from pair to pair and report medians: each reply is a
greedy reply of --tokens tokens (EOS ignored by a long essay prompt) from SmolLM2 on the CPU.
Off vs on runs in one engine process; --against runs each tree in a fresh process per pair
(the engine process imports its tree's code), so load noise is shared between the two.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SMOLLM2 = Path.home() / ".cache" / "hearth" / "test-models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MESSAGE = "Write a long, detailed essay about the history of the city of Paris, with many paragraphs."


def replies(modes: list[int], tokens: int, threads: int) -> list[float]:
    """Decode tok/s of one reply per entry of `modes` (its top_logprobs), in order, in one engine."""
    from app.engine import ChatMessage, Done, EngineClient, LoadOptions, SamplingParams

    speeds = []
    with EngineClient() as engine:
        engine.load(LoadOptions(str(SMOLLM2), n_ctx=2048, n_threads=threads))
        list(engine.chat([ChatMessage("user", "hi")], SamplingParams(temperature=0, max_tokens=8)))  # warm
        for top in modes:
            asked = {"top_logprobs": top} if top >= 0 else {}  # a tree without probabilities has no such field
            sampling = SamplingParams(temperature=0, repeat_penalty=1.0, max_tokens=tokens, **asked)
            done = list(engine.chat([ChatMessage("user", MESSAGE)], sampling))[-1]
            assert isinstance(done, Done), done
            speeds.append(done.stats.decode_tok_s)
    return speeds


def one_tree(tree: str, runs: int, tokens: int, threads: int) -> float:
    """Median decode speed of `runs` replies with probabilities off, from the code in `tree`."""
    code = (f"import sys, json; sys.path.insert(0, {tree!r}); sys.argv = ['x']; "
            f"from multiprocessing import freeze_support\n"
            f"if __name__ == '__main__':\n"
            f"    sys.path.insert(0, {str(HERE)!r}); import probs_cost\n"
            f"    print(json.dumps(probs_cost.replies([-1] * {runs}, {tokens}, {threads})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": tree, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    return statistics.median(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=5, help="alternatives per token when on")
    parser.add_argument("--against", default="", help="another Hearth checkout: compare with probabilities off")
    args = parser.parse_args()
    if args.against:
        mine, theirs = [], []
        for i in range(args.pairs):
            order = [(str(ROOT), mine), (args.against, theirs)]
            for tree, into in order if i % 2 == 0 else order[::-1]:
                into.append(one_tree(tree, 3, args.tokens, args.threads))
            print(f"pair {i + 1}: this tree {mine[-1]:.1f}, other {theirs[-1]:.1f} tok/s", flush=True)
        ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
        print(f"off, this tree: {statistics.median(mine):.1f} tok/s; {args.against}: "
              f"{statistics.median(theirs):.1f} tok/s; median ratio {statistics.median(ratios):.3f} "
              f"({args.pairs} pairs of 3 replies x {args.tokens} tokens)")
        return
    sys.path.insert(0, str(ROOT))
    modes = []
    for i in range(args.pairs):
        modes += [-1, args.top] if i % 2 == 0 else [args.top, -1]
    speeds = replies(modes, args.tokens, args.threads)
    off = [s for s, m in zip(speeds, modes, strict=True) if m < 0]
    on = [s for s, m in zip(speeds, modes, strict=True) if m >= 0]
    ratios = [b / a for a, b in zip(off, on, strict=True)]
    print(f"off: {statistics.median(off):.1f} tok/s; on (top {args.top}): {statistics.median(on):.1f} tok/s; "
          f"median ratio on/off {statistics.median(ratios):.3f} ({args.pairs} pairs x {args.tokens} tokens)")


if __name__ == "__main__":
    main()
