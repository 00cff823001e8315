"""`hearth chat --engine URL` and `hearth models --engine URL`: talk to an OpenAI-compatible server."""

from __future__ import annotations

import argparse
import json
import sys

from app.cli.common import EXIT_USAGE, CliError

EXIT_FAILED = EXIT_USAGE  # a reply that failed (with --json: printed with its partial text and an error)


def _remote(args: argparse.Namespace):
    from app.engine.protocol import EngineError
    from app.engine.remote import RemoteEngine

    try:
        return RemoteEngine(args.engine, args.api_key)
    except EngineError as exc:
        raise CliError(exc.message) from None


def run_remote_models(args: argparse.Namespace) -> int:
    from app.engine.protocol import EngineError

    with _remote(args) as engine:
        try:
            names = engine.models()
        except EngineError as exc:
            raise CliError(exc.message) from None
    if args.json:
        print(json.dumps([{"id": name, "server": engine.base_url} for name in names]))
    elif not names:
        print(f"{engine.base_url} lists no models")
    else:
        for name in names:
            print(name)
    return 0


def run_remote_chat(args: argparse.Namespace, messages, sampling) -> int:
    from app.cli.reply_printer import ReplyPrinter
    from app.engine.protocol import Done, EngineError, Error, LoadOptions, Token

    with _remote(args) as engine:
        try:
            info = engine.load(LoadOptions(path=args.model or ""))
        except EngineError as exc:
            raise CliError(exc.message) from None
        printer = ReplyPrinter(sys.stdout, color=sys.stdout.isatty())
        reasoning: list[str] = []
        for event in engine.chat(messages, sampling):
            if isinstance(event, Token):
                reasoning.append(event.reasoning)
                if not args.json:
                    printer.write(event.reasoning, event.text)
            elif isinstance(event, Error):
                if not args.json:
                    printer.finish()
                    raise CliError(event.message)
                # The reply so far is kept, with what went wrong; the status still says it failed.
                print(json.dumps({"reply": event.partial, "reasoning": "".join(reasoning), "error": event.message,
                                  "error_kind": event.kind.value, "model": info.path, "engine": engine.base_url}))
                print(event.message, file=sys.stderr)
                return EXIT_FAILED
            elif isinstance(event, Done):
                if not args.json:
                    printer.finish()
                    continue
                stats = event.stats
                count = engine.count(messages)
                print(json.dumps({
                    "reply": event.text,
                    "reasoning": event.reasoning,
                    "prompt_tokens": stats.prompt_tokens,
                    "counted_prompt_tokens": count.prompt_tokens,
                    "count_estimated": count.estimated,
                    "completion_tokens": stats.completion_tokens,
                    "ttft_s": round(stats.ttft_s, 6),
                    "decode_tok_s": round(stats.decode_tok_s, 2),
                    "stop_reason": stats.stop_reason.value,
                    "n_ctx": info.n_ctx,
                    "model": info.path,
                    "engine": engine.base_url,
                }))
    return 0
