"""A scripted reply for the UI benchmarks: fenced Python code streamed like a fast model.

`code_reply(chars)` builds a Markdown reply made of short explanations and fenced
Python blocks (one with a very long line, one of about 1,800 characters).
`ScriptedStream` replaces an EngineService's `chat` so a send streams that text
from a background thread, token-sized pieces at a steady rate, then finishes
like the real engine does.
"""

from __future__ import annotations

import threading
import time

from app.engine.protocol import Done, Stats, StopReason

_BLOCKS = [
    '''import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Inventory:
    """Items on the shelves, saved as JSON."""

    path: Path
    items: dict[str, int] = field(default_factory=dict)

    def load(self) -> None:
        if self.path.exists():
            self.items = json.loads(self.path.read_text(encoding="utf-8"))

    def add(self, name: str, count: int = 1) -> int:
        self.items[name] = self.items.get(name, 0) + count
        return self.items[name]

    def save(self) -> None:
        self.path.write_text(json.dumps(self.items, indent=2), encoding="utf-8")
''',
    '''def fibonacci(n: int) -> list[int]:
    """The first n Fibonacci numbers."""
    numbers = [0, 1]
    while len(numbers) < n:
        numbers.append(numbers[-1] + numbers[-2])
    return numbers[:n]


if __name__ == "__main__":
    for i, value in enumerate(fibonacci(20)):
        print(f"{i:>3}: {value:>8}")  # right-aligned table
''',
    '''async def fetch_all(client, urls: list[str], limit: int = 8) -> dict[str, int]:
    semaphore = asyncio.Semaphore(limit)
    results: dict[str, int] = {}

    async def one(url: str) -> None:
        async with semaphore:
            response = await client.get(url, timeout=10.0)
            results[url] = response.status_code

    await asyncio.gather(*(one(url) for url in urls))
    return results
''',
    '''CONFIG = {"name": "example", "retries": 3, "timeout": 2.5, "hosts": ["alpha.example.org", "beta.example.org", "gamma.example.org", "delta.example.org"], "flags": {"verbose": True, "dry_run": False}}  # a very long line


def describe(config: dict) -> str:
    lines = []
    for key, value in sorted(config.items()):
        lines.append(f"{key} = {value!r}")
    return "\\n".join(lines)
''',
]

_BLOCKS.append("import asyncio\n" + "\n\n".join(_BLOCKS))  # one long block (about 1,800 characters)

_PROSE = [
    "Here is a small class that keeps an inventory and saves it:",
    "The Fibonacci numbers, computed iteratively so large *n* stays fast:",
    "Fetching many addresses at once, with at most `limit` requests in flight:",
    "A configuration written on one long line, and a function that prints it:",
    "And everything together as one module:",
]


def code_reply(chars: int) -> str:
    """A Markdown reply of at least `chars` characters, mostly fenced Python."""
    parts: list[str] = []
    total = 0
    index = 0
    while total < chars:
        prose, block = _PROSE[index % len(_PROSE)], _BLOCKS[index % len(_BLOCKS)]
        part = f"{prose}\n\n```python\n{block}```\n\n"
        parts.append(part)
        total += len(part)
        index += 1
    parts.append("That is all the code.\n")
    return "".join(parts)


class ScriptedStream:
    """Stands in for `engine.chat`: streams `text` as `token` signals from a thread."""

    def __init__(self, engine, text: str, tokens_per_second: float = 1000.0, chars_per_token: int = 3) -> None:
        self.engine = engine
        self.text = text
        self.delay = 1.0 / tokens_per_second
        self.step = chars_per_token
        self._job = 900_000

    def __call__(self, *_args, **_kwargs) -> int:
        self._job += 1
        threading.Thread(target=self._run, args=(self._job,), daemon=True).start()
        return self._job

    def _run(self, job: int) -> None:
        time.sleep(0.05)  # the session records the job id before the first token
        start = time.monotonic()
        pieces = [self.text[i:i + self.step] for i in range(0, len(self.text), self.step)]
        for n, piece in enumerate(pieces, 1):
            self.engine.token.emit(job, piece, n)
            # Sleep to the schedule, not per piece, so the rate holds despite timer granularity.
            ahead = start + n * self.delay - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        seconds = max(time.monotonic() - start, 1e-6)
        stats = Stats(completion_tokens=len(pieces), decode_tok_s=len(pieces) / seconds, stop_reason=StopReason.EOS)
        self.engine.finished.emit(job, Done(id=job, stats=stats, text=self.text))
