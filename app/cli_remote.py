"""CLI commands that talk HTTP: `chat --engine URL`, `models --engine URL` and `serve`."""

from __future__ import annotations

import argparse
import json
import sys

from app.cli import CliError


def add_serve_command(sub: argparse._SubParsersAction) -> None:
    from app.cli import _gpu_layers
    from app.engine.protocol import AUTO_LAYERS

    serve = sub.add_parser("serve", help="answer the OpenAI-compatible API with a local model")
    serve.add_argument("--model", required=True, help="path of a GGUF model file")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this computer only; others need --api-key)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api-key", default=None, help="clients must send 'Authorization: Bearer KEY'")
    serve.add_argument("--ctx", type=int, default=4096, help="context size in tokens (0: the model's own)")
    serve.add_argument("--gpu-layers", type=_gpu_layers, default=AUTO_LAYERS)
    serve.add_argument("--threads", type=int, default=0)
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from app.engine.protocol import LoadOptions
    from app.server.run import serve

    if not 0 < args.port < 65536:
        raise CliError("--port must be between 1 and 65535")
    if args.ctx < 0:
        raise CliError("--ctx must be 0 or more")
    options = LoadOptions(path=args.model, n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, n_threads=args.threads)
    try:
        return serve(options, args.host, args.port, args.api_key)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None


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
    from app.engine.protocol import Done, EngineError, Error, LoadOptions, Token

    with _remote(args) as engine:
        try:
            info = engine.load(LoadOptions(path=args.model or ""))
        except EngineError as exc:
            raise CliError(exc.message) from None
        for event in engine.chat(messages, sampling):
            if isinstance(event, Token) and not args.json:
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Error):
                if not args.json:
                    sys.stdout.write("\n")
                raise CliError(event.message)
            elif isinstance(event, Done):
                if not args.json:
                    sys.stdout.write("\n")
                    continue
                stats = event.stats
                count = engine.count(messages)
                print(json.dumps({
                    "reply": event.text,
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
