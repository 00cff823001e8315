"""The seeded header fuzzer at scale: thousands of mutants of real GGUF headers, one table.

Each mutant (bits flipped, counts and lengths set to hostile values, regions zeroed,
copied, cut, inserted or removed; see tests/support/header_fuzz.py) is written as a
sparse file and read once with the scan's deadline. The table gives, per model file,
the mutants read and refused, the slowest read, the most Python memory one read took
(tracemalloc, on every Nth mutant: it slows a read about 10x), and anything outside
the library's own error (GGUFFileError), which must be zero. A second table counts
the refusal reasons.

    python bench/header_fuzz.py [--model PATH ...] [--count 3000] [--seed 1] [--memory-every 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _common import print_table

from app.library.library import FILE_TIME_LIMIT
from tests.support import header_fuzz
from tests.support.real_models import smollm2_path
from tests.support.tiny_gguf import write_tiny_model

LIBRARY_KINDS = ("read", "not_gguf", "truncated", "timeout")


def default_models(folder: Path) -> list[Path]:
    models = [write_tiny_model(folder / "tiny-chat.gguf")]
    real, why = smollm2_path()
    if real is None:
        print(f"SmolLM2 left out: {why}", file=sys.stderr)
    else:
        models.append(real)
    return models


def reason(message: str) -> str:
    """A refusal message without the file, names and numbers, so like reasons count together."""
    text = re.sub(r"\s*\([^)]*\.gguf\)$|: \S+\.gguf$", "", message)
    text = text.replace("(no name)", "X")
    text = re.sub(r"(tensor|key|the array|the key|an element of|the value of|token) (?!X\b)\S+", r"\1 X", text)
    return re.sub(r"\d[\d,]*", "N", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, help="a GGUF file to mutate (repeatable)")
    parser.add_argument("--count", type=int, default=3000, help="mutants per model")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-every", type=int, default=10, help="measure memory on every Nth mutant (0: never)")
    args = parser.parse_args()
    rows, reasons, strange = [], Counter(), []
    with tempfile.TemporaryDirectory(prefix="hearth-fuzz-") as tmp:
        folder = Path(tmp)
        for model in args.model or default_models(folder):
            results: Counter[str] = Counter()
            max_s, max_peak = 0.0, 0
            for outcome in header_fuzz.run(model, folder, args.count, args.seed, FILE_TIME_LIMIT, args.memory_every):
                results[outcome.result] += 1
                max_s = max(max_s, outcome.seconds)
                max_peak = max(max_peak, outcome.peak_bytes)
                if outcome.result in ("not_gguf", "truncated", "timeout"):
                    reasons[reason(outcome.message)] += 1
                if outcome.result not in LIBRARY_KINDS:
                    strange.append(outcome)
            other = sum(n for kind, n in results.items() if kind not in LIBRARY_KINDS)
            measured = -(-args.count // args.memory_every) if args.memory_every > 0 else 0
            rows.append([model.name, args.count, results["read"], results["not_gguf"], results["truncated"],
                         results["timeout"], other, f"{max_s * 1000:.0f}", f"{max_peak / 2**20:.1f} ({measured})"])
    print_table(["file", "mutants", "read", "not_gguf", "truncated", "timeout", "other", "max ms", "max MiB (n)"], rows)
    print()
    print_table(["refusal reason", "mutants"], [[text, n] for text, n in reasons.most_common(25)])
    for outcome in strange[:10]:
        print(f"NOT THE LIBRARY'S ERROR: {outcome.kind}: {outcome.result}: {outcome.message}", file=sys.stderr)
    return 1 if strange else 0


if __name__ == "__main__":
    sys.exit(main())
