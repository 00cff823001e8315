"""What the context meter's count costs as a chat grows: the whole chat against only what changed.

The meter asks for a count after each pause in typing: the chat's history plus the draft.
Rendering the template is cheap; tokenizing is not (llama.cpp's tokenizer, about 10 µs a
token on SmolLM2's vocabulary). The engine keeps the tokens of each run of text between
control tokens (prompt_encoder._run_tokens), so after the first count of a turn only the
draft's run is tokenized again. This prints, for histories of about 1k, 16k and 64k tokens,
the median latency of a keystroke's count with the kept runs ("now") and with them dropped
before every count (what each count cost before), in alternating order.

    python bench/count_cost.py [--model PATH] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _common import print_table
from engine_throughput import SMOLLM2

PARAGRAPH = ("The history of Paris spans two thousand years, from a Roman town on an island in the Seine "
             "to a capital of art, science and trade. ")


def history(target_tokens: int, tokens_per_turn: int = 120) -> list:
    from app.engine.protocol import ChatMessage

    turns = max(target_tokens // tokens_per_turn, 1)
    messages = []
    for i in range(turns):
        messages += [ChatMessage("user", f"Question {i}: tell me more. " + PARAGRAPH),
                     ChatMessage("assistant", PARAGRAPH * 2)]
    return messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=SMOLLM2)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    from app.engine.protocol import ChatMessage, LoadOptions
    from app.engine.runtime import LoadedModel

    model = LoadedModel(LoadOptions(str(args.model), n_ctx=2048, n_threads=1))
    rows = []
    try:
        for target in (1_000, 16_000, 64_000):
            messages = history(target)
            tokens = model.count_tokens(messages + [ChatMessage("user", "d")])
            kept: list[float] = []
            whole: list[float] = []
            for i in range(args.runs):
                draft = [ChatMessage("user", "draft " + "x" * i)]
                for drop in ((False, True) if i % 2 == 0 else (True, False)):
                    if drop:
                        model.encoder._runs.clear()
                    start = time.perf_counter()
                    model.count_tokens(messages + draft)
                    (whole if drop else kept).append((time.perf_counter() - start) * 1000)
            rows.append([f"{tokens:,}", f"{statistics.median(kept):.1f}", f"{statistics.median(whole):.1f}",
                         f"{statistics.median(whole) / statistics.median(kept):.0f}x"])
    finally:
        model.close()
    print(f"\n{args.model.name}: one count of history + draft, median of {args.runs} (ms)\n")
    print_table(["history tokens", "now (only the draft tokenized)", "whole chat tokenized", "saved"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
