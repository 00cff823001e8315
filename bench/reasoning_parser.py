"""Cost of the streaming reasoning parser per token-sized piece (it runs in the engine for every token).

    PYTHONPATH=. python bench/reasoning_parser.py
"""

from __future__ import annotations

import time

from app.engine.reasoning import ReasoningParser

WORDS = ["the", "model", "weighs", "each", "step", "before", "it", "answers", ",", "and", "then", "writes"]


def pieces(n: int) -> list[str]:
    return [" " + WORDS[i % len(WORDS)] for i in range(n)]


def measure(label: str, prompt: str, stream: list[str]) -> None:
    best = float("inf")
    for _ in range(5):
        parser = ReasoningParser(prompt)
        start = time.perf_counter()
        for piece in stream:
            parser.feed(piece)
        parser.flush()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<40} {len(stream):>7} pieces  {best / len(stream) * 1e6:6.2f} µs/piece")


def main() -> None:
    n = 50_000
    body = pieces(n)
    measure("plain reply (no thinking)", "", body)
    measure("<think> … </think> answer", "", ["<think>"] + body + ["</think>"] + body)
    measure("think block opened by the prompt", "<think>\n", body + ["</think>"] + body)
    harmony = ["<|channel|>", "analysis", "<|message|>"] + body + ["<|end|>", "<|start|>", "assistant", "<|channel|>",
                                                                   "final", "<|message|>"] + body
    measure("gpt-oss Harmony channels", "<|start|>assistant", harmony)


if __name__ == "__main__":
    main()
