"""What per-token probabilities cost in decode speed, and that asking for none costs nothing.

    python bench/probs_cost.py --rounds 10            # off vs on (top 5 and top 20), this tree: a table
    python bench/probs_cost.py --against /work/main   # off, this tree vs another checkout of Hearth

Both modes take turns going first from round to round and report medians: each reply is a
greedy reply of --tokens tokens (EOS ignored by a long essay prompt) from SmolLM2 on the CPU.
Off vs on runs in one engine process; --against runs each tree in a fresh process per round
(the engine process imports its tree's code), so load noise is shared between the two.
The table's last column times the probe alone (a softmax and the top N over SmolLM2-sized
logits), which a busy machine disturbs far less than whole replies.
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


def probe_ms(top: int, vocab: int = 49152, repeats: int = 300) -> float:
    """Median milliseconds of one token's probabilities (probs_probe.measure) on SmolLM2-sized logits."""
    import time

    import numpy as np

    from app.engine.probs_probe import measure

    class Pieces(dict[int, tuple[bool, bytes]]):
        def __missing__(self, token: int) -> tuple[bool, bytes]:
            return (False, b"x")

    rng = np.random.default_rng(0)
    logits = (rng.standard_normal(vocab) * 3).astype(np.float32)
    facts, times = Pieces(), []
    for _ in range(repeats):
        t0 = time.perf_counter()
        measure(logits, 7, top, facts)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def table(rows: list[tuple[str, ...]]) -> str:
    """A Markdown table, columns padded so it reads in a terminal too."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", "--pairs", type=int, default=10, dest="rounds",
                        help="rounds; each runs every mode once, in a rotated order")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tops", default="5,20", help="alternatives per token to measure, comma-separated")
    parser.add_argument("--top", type=int, default=0, help="(older form) one --tops value")
    parser.add_argument("--against", default="", help="another Hearth checkout: compare with probabilities off")
    parser.add_argument("--quiet", action="store_true", help="only the table, not each round")
    args = parser.parse_args()
    setting = f"SmolLM2-135M Q4_1, {args.threads} threads, greedy, {args.tokens} tokens a reply"
    if args.against:
        mine, theirs = [], []
        for i in range(args.rounds):
            order = [(str(ROOT), mine), (args.against, theirs)]
            for tree, into in order if i % 2 == 0 else order[::-1]:
                into.append(one_tree(tree, 3, args.tokens, args.threads))
            if not args.quiet:
                print(f"round {i + 1}: this tree {mine[-1]:.1f}, other {theirs[-1]:.1f} tok/s", flush=True)
        ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
        print(f"\nProbabilities off, this tree vs {args.against} ({setting}; {args.rounds} rounds of 3 replies a "
              "side, medians)\n")
        print(table([("tree", "decode tok/s", "ratio to the other"),
                     ("this tree", f"{statistics.median(mine):.1f}", f"{statistics.median(ratios):.3f}"),
                     (args.against, f"{statistics.median(theirs):.1f}", "1")]))
        return
    sys.path.insert(0, str(ROOT))
    tops = [args.top] if args.top else [int(t) for t in args.tops.split(",") if t.strip()]
    kinds = [-1, *tops]
    modes: list[int] = []
    for i in range(args.rounds):  # each round rotates who goes first
        shift = i % len(kinds)
        modes += kinds[shift:] + kinds[:shift]
    speeds = replies(modes, args.tokens, args.threads)
    by_round = [dict(zip(modes[i:i + len(kinds)], speeds[i:i + len(kinds)], strict=True))
                for i in range(0, len(modes), len(kinds))]
    if not args.quiet:
        for n, got in enumerate(by_round, 1):
            print(f"round {n}: " + ", ".join(f"{'off' if k < 0 else f'top {k}'} {got[k]:.1f}" for k in kinds)
                  + " tok/s", flush=True)
    off = statistics.median(r[-1] for r in by_round)
    rows = [("probabilities", "decode tok/s (median)", "on/off (median of rounds)", "ms a token more",
             "probe alone, ms a token")]
    rows.append(("off", f"{off:.1f}", "1", "0", "0"))
    for k in tops:
        on = statistics.median(r[k] for r in by_round)
        ratio = statistics.median(r[k] / r[-1] for r in by_round)
        extra = statistics.median(1000 / r[k] - 1000 / r[-1] for r in by_round)
        rows.append((f"on, top {k}", f"{on:.1f}", f"{ratio:.3f}", f"{extra:+.2f}", f"{probe_ms(k):.2f}"))
    print(f"\nToken probabilities: decode cost ({setting}; {args.rounds} rounds, each mode once a round in a "
          "rotated order, one engine)\n")
    print(table(rows))


if __name__ == "__main__":
    main()
