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
import functools
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


def freeze(client) -> None:
    """SIGSTOP the engine process, as a hung llama.cpp would look from outside."""
    if client.pid is None:
        raise RuntimeError("the engine process is not running")
    os.kill(client.pid, signal.SIGSTOP)


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
    stopped_mid_reply = stream_then(client, messages, lambda: freeze(client))
    rows.append(["detect a stopped engine mid-reply", f"{stopped_mid_reply:.2f}"])

    def stop_then_cancel() -> None:
        freeze(client)
        client.cancel()

    rows.append(["Stop on a stopped engine", f"{stream_then(client, messages, stop_then_cancel):.2f}"])

    def close_now(client: EngineClient, label: str) -> None:
        started = time.monotonic()
        client.close()
        rows.append([label, f"{time.monotonic() - started:.2f}"])

    def stop_then_close(client: EngineClient, label: str) -> None:
        freeze(client)
        close_now(client, label)

    for label, action in (("close() during a reply", close_now), ("close() during a stopped reply", stop_then_close)):
        client = EngineClient(hang_timeout=args.hang_timeout)
        client.load(options)
        stream_then(client, messages, functools.partial(action, client, label))

    client = EngineClient(hang_timeout=args.hang_timeout)
    stop_in_load = functools.partial(stop_then_close, client, "close() during a stopped load")
    try:
        # The first progress (0.0) comes before the engine process is started: stop it once it runs.
        client.load(options, lambda fraction: stop_in_load() if client.pid is not None and fraction < 1 else None)
    except Exception:  # noqa: BLE001 - the load is ended by close()
        pass
    print_table(["case", "seconds"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
