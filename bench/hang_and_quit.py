"""How long a hung engine takes to notice, Stop to end, and close() to return.

A tiny generated model streams an endless reply; the engine process is then
SIGSTOPped (as a hung llama.cpp would look from outside). Measured:
- detect: from SIGSTOP to the client's "stopped responding" error (target ~10 s, the hang timeout)
- stop:   from Stop (cancel) on a stopped engine to the reply ending (target about 1 s)
- close:  EngineClient.close() during a reply, a stopped reply and a stopped load (target under 2 s)

    python bench/hang_and_quit.py [--hang-timeout 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from pathlib import Path

from _common import print_table


def stream_then(client, messages, action) -> float:
    """Run `action` at the first token; return seconds from it to the end of the reply."""
    from app.engine import SamplingParams, Token

    started = 0.0
    for event in client.chat(messages, SamplingParams(temperature=0.0, max_tokens=0)):
        if isinstance(event, Token) and not started:
            action()
            started = time.monotonic()
        elif not isinstance(event, Token):
            break
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hang-timeout", type=float, default=10.0)
    args = parser.parse_args()
    from app.engine import ChatMessage, EngineClient, LoadOptions
    from tests.support.tiny_gguf import write_tiny_model

    model = write_tiny_model(Path(tempfile.mkdtemp()) / "bench-tiny.gguf", context_length=4096)
    options = LoadOptions(str(model), n_ctx=4096)
    messages = [ChatMessage("user", "Hello")]
    rows = []

    client = EngineClient(hang_timeout=args.hang_timeout)
    client.load(options)
    rows.append(["detect a stopped engine mid-reply", f"{stream_then(client, messages, lambda: os.kill(client.pid, signal.SIGSTOP)):.2f}"])

    def stop_then_cancel() -> None:
        os.kill(client.pid, signal.SIGSTOP)
        client.cancel()

    rows.append(["Stop on a stopped engine", f"{stream_then(client, messages, stop_then_cancel):.2f}"])

    def close_now() -> None:
        started = time.monotonic()
        client.close()
        rows.append([label, f"{time.monotonic() - started:.2f}"])

    for label, stop_first in (("close() during a reply", False), ("close() during a stopped reply", True)):
        client = EngineClient(hang_timeout=args.hang_timeout)
        client.load(options)
        stream_then(client, messages, (lambda: (os.kill(client.pid, signal.SIGSTOP), close_now())) if stop_first
                    else close_now)

    client = EngineClient(hang_timeout=args.hang_timeout)
    label = "close() during a stopped load"
    try:
        client.load(options, lambda fraction: (os.kill(client.pid, signal.SIGSTOP), close_now()) if fraction < 1 else None)
    except Exception:  # the load is ended by close()
        pass
    print_table(["case", "seconds"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
