"""`hearth compare`: one prompt on several local models in turn, the replies and a table of their stats.

Each model runs in a fresh engine process, loaded with the same flags `hearth chat`
takes, so a greedy reply and its token counts are the ones `hearth chat` gives alone,
and the peak memory is that model's. A model that fails to load or answer is reported
and the others still run.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from app.cli.common import CliError
from app.cli.generation_args import add_generation_args, check_generation_args, conversation_from, load_options
from app.formatting import human_bytes


@dataclass
class Outcome:
    model: str
    reply: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float = 0.0
    decode_tok_s: float = 0.0
    stop_reason: str = ""
    load_s: float = 0.0
    peak_rss_bytes: int = 0
    error: str = ""

    def as_json(self) -> dict:
        data = {
            "model": self.model, "reply": self.reply, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens, "ttft_s": round(self.ttft_s, 6),
            "decode_tok_s": round(self.decode_tok_s, 2), "stop_reason": self.stop_reason,
            "load_s": round(self.load_s, 3), "peak_rss_bytes": self.peak_rss_bytes,
        }
        return {**data, "error": self.error} if self.error else data


def add_command(sub: argparse._SubParsersAction) -> None:
    compare = sub.add_parser("compare", help="one prompt on several local models, replies and stats side by side")
    compare.add_argument("prompt", help="the message to send to every model")
    compare.add_argument("--model", action="append", required=True,
                         help="a GGUF model file, or remote:URL#MODEL for a model on a server; twice or more")
    compare.add_argument("--json", action="store_true", help="print a JSON list, one object per model")
    add_generation_args(compare)
    compare.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    if len(args.model) < 2:
        raise CliError("compare needs at least two --model PATH (use `hearth chat` for one)")
    check_generation_args(args)
    outcomes = []
    for path in args.model:
        if not args.json:
            print(f"## {display_name(path)}\n", flush=True)
        outcome = run_one(args, path, stream=None if args.json else sys.stdout)
        if not args.json:
            print(f"(error: {outcome.error})\n" if outcome.error else "\n", flush=True)
        outcomes.append(outcome)
    if args.json:
        print(json.dumps([o.as_json() for o in outcomes]))
    else:
        print(stats_table(outcomes))
        summary = summary_line(outcomes)
        if summary:
            print(f"\n{summary}")
    for outcome in outcomes:
        if outcome.error:
            print(f"hearth: {display_name(outcome.model)}: {outcome.error}", file=sys.stderr)
    return 0 if all(not o.error for o in outcomes) else 2


def run_one(args: argparse.Namespace, path: str, stream=None) -> Outcome:
    """Load `path` in a fresh engine, send the prompt, and measure; errors end up in the outcome."""
    from app.engine import Done, EngineClient, EngineError, Error, Token
    from app.engine.router import EngineRouter, parse_remote_path

    outcome = Outcome(path)
    local = EngineClient()
    engine = EngineRouter(local, api_key_for=_api_key)
    try:
        if parse_remote_path(path) is None:
            engine.start()
        info = engine.load(load_options(args, path))
        outcome.load_s = info.load_seconds
        conversation = conversation_from(args)
        history = conversation.history()
        conversation.begin_reply(0, info.name, conversation.sampling)
        for event in engine.chat(history, conversation.sampling, thinking=args.thinking):
            reply = conversation.take(event)
            if isinstance(event, Token) and stream is not None and event.text:
                stream.write(event.text)
                stream.flush()
            elif isinstance(event, Error):
                outcome.error = event.message
            elif isinstance(event, Done):
                stats = event.stats
                outcome.reply = reply.content if reply is not None else event.text
                outcome.prompt_tokens, outcome.completion_tokens = stats.prompt_tokens, stats.completion_tokens
                outcome.ttft_s, outcome.decode_tok_s = stats.ttft_s, stats.decode_tok_s
                outcome.stop_reason = stats.stop_reason.value
        outcome.peak_rss_bytes = peak_rss(local.pid) if not engine.is_remote else 0  # a server's memory is its own
    except EngineError as exc:
        outcome.error = exc.message
    finally:
        engine.close_remote()
        local.close()
    return outcome


def _api_key(url: str) -> str:
    from app.remote_endpoints import EndpointStore

    return EndpointStore().api_key(url)


def display_name(path: str) -> str:
    """A file's name, or "model @ server" for a remote model (remote:URL#model)."""
    from app.engine.router import parse_remote_path

    remote = parse_remote_path(path)
    return f"{remote[1]} @ {remote[0]}" if remote else Path(path).name


def peak_rss(pid: int | None) -> int:
    """The engine process's peak resident memory (VmHWM on Linux; the current RSS elsewhere)."""
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except (psutil.Error, OSError):  # the process is gone, or psutil cannot see it
        return 0


def stats_table(outcomes: list[Outcome]) -> str:
    header = ("model", "prompt", "reply", "first token", "tok/s", "stop", "load", "peak memory")
    rows = [header]
    for o in outcomes:
        if o.error:
            rows.append((display_name(o.model), "-", "-", "-", "-", "error", "-", "-"))
            continue
        rows.append((display_name(o.model), str(o.prompt_tokens), str(o.completion_tokens), f"{o.ttft_s:.2f} s",
                     f"{o.decode_tok_s:.1f}", o.stop_reason, f"{o.load_s:.1f} s", human_bytes(o.peak_rss_bytes)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_line(outcomes: list[Outcome]) -> str:
    """Which model was fastest, answered first, and wrote the longest and shortest reply."""
    done = [o for o in outcomes if not o.error]
    if len(done) < 2:
        return ""
    name = lambda o: display_name(o.model)  # noqa: E731
    parts = [f"fastest: {name(max(done, key=lambda o: o.decode_tok_s))}",
             f"first token: {name(min(done, key=lambda o: o.ttft_s))}"]
    longest, shortest = max(done, key=lambda o: o.completion_tokens), min(done, key=lambda o: o.completion_tokens)
    if longest.completion_tokens != shortest.completion_tokens:
        parts += [f"longest reply: {name(longest)}", f"shortest reply: {name(shortest)}"]
    return " · ".join(parts)
