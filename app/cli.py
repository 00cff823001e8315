"""The one entry point: the GUI by default; sub-commands for scripts and diagnostics."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from app.engine.protocol import AUTO_LAYERS

EXIT_USAGE = 2


class CliError(Exception):
    """A bad option or input: one line on stderr, exit status 2."""


def _gpu_layers(text: str) -> int:
    if text == "auto":
        return AUTO_LAYERS
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, -1 or auto, got {text!r}") from None
    if value < -1:
        raise argparse.ArgumentTypeError("expected a number, -1 or auto")
    return value


class QuietParser(argparse.ArgumentParser):
    """Bad options become one plain line, not a usage dump."""

    def error(self, message: str):  # type: ignore[override]
        raise CliError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = QuietParser(prog="hearth", description="Chat with language models on your own computer.")
    parser.add_argument("--model", help="open the app with this GGUF model loaded")
    sub = parser.add_subparsers(dest="command", parser_class=QuietParser)

    chat = sub.add_parser("chat", help="one reply from a local model, streamed to stdout")
    chat.add_argument("prompt", help="the message to send")
    chat.add_argument("--model", help="path of a GGUF model file (with --engine: the server's model name)")
    chat.add_argument("--engine", help="URL of an OpenAI-compatible server to chat with instead of a local model")
    chat.add_argument("--api-key", default=None, help="API key for --engine")
    chat.add_argument("--system", default="", help="system prompt")
    chat.add_argument("--temperature", type=float, default=None)
    chat.add_argument("--top-p", type=float, default=None)
    chat.add_argument("--top-k", type=int, default=None)
    chat.add_argument("--min-p", type=float, default=None)
    chat.add_argument("--repeat-penalty", type=float, default=None)
    chat.add_argument("--seed", type=int, default=None)
    chat.add_argument("--max-tokens", type=int, default=None)
    chat.add_argument("--ctx", type=int, default=4096, help="context size in tokens (0: the model's own)")
    chat.add_argument("--gpu-layers", type=_gpu_layers, default=AUTO_LAYERS,
                      help="layers to offload to the GPU: a number, -1 for all, or auto (default: what fits)")
    chat.add_argument("--flash-attn", choices=["auto", "on", "off"], default="auto")
    chat.add_argument("--kv-cache", choices=["f16", "q8_0", "q4_0"], default="f16", help="KV cache type")
    chat.add_argument("--batch", type=int, default=512, help="prompt batch size")
    chat.add_argument("--no-mmap", action="store_true", help="read the model into memory instead of mapping it")
    chat.add_argument("--threads", type=int, default=0)
    chat.add_argument("--json", action="store_true",
                      help="print one JSON object instead of streaming (the thinking is its \"reasoning\")")
    chat.add_argument("--thinking", choices=["default", "on", "off", "low", "medium", "high"], default="default",
                      help="switch a reasoning model's thinking on or off (low/medium/high: gpt-oss effort); "
                           "thinking is printed before the answer, each line prefixed with '> ' "
                           "(dimmed on a terminal)")
    chat.add_argument("--chat-template-file", default="", help="a .jinja chat template used instead of the model's")

    from app import cli_hub, cli_prompt

    cli_hub.add_commands(sub)
    cli_prompt.add_command(sub)
    from app import cli_remote

    cli_remote.add_serve_command(sub)
    return parser


def run_chat(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.cli_thinking import ReplyPrinter
    from app.engine import ChatMessage, Done, EngineClient, EngineError, Error, LoadOptions, SamplingParams, Token

    if args.ctx < 0:
        raise CliError("--ctx must be 0 or more")
    if args.temperature is not None and args.temperature < 0:
        raise CliError("--temperature must be 0 or more")
    if args.max_tokens is not None and args.max_tokens < 0:
        raise CliError("--max-tokens must be 0 or more")
    overrides = {
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "min_p": args.min_p,
        "repeat_penalty": args.repeat_penalty,
        "seed": args.seed,
        "max_tokens": args.max_tokens,
    }
    sampling = replace(SamplingParams(), **{k: v for k, v in overrides.items() if v is not None})
    messages = ([ChatMessage("system", args.system)] if args.system else []) + [ChatMessage("user", args.prompt)]
    if args.engine:
        from app.cli_remote import run_remote_chat

        return run_remote_chat(args, messages, sampling)
    if not args.model:
        raise CliError("chat needs --model PATH (or --engine URL)")
    if args.batch <= 0:
        raise CliError("--batch must be a positive number")
    engine = EngineClient()
    engine.start()  # the engine process boots (and imports llama.cpp) while we go on
    options = LoadOptions(
        path=args.model, n_ctx=args.ctx, n_gpu_layers=args.gpu_layers,
        flash_attn={"auto": None, "on": True, "off": False}[args.flash_attn], n_threads=args.threads,
        n_batch=args.batch, kv_cache_type=args.kv_cache, use_mmap=not args.no_mmap,
        chat_template_file=args.chat_template_file,
    )
    with engine:
        try:
            info = engine.load(options)
        except EngineError as exc:
            raise CliError(exc.message) from None
        printer = ReplyPrinter(sys.stdout, color=sys.stdout.isatty())
        for event in engine.chat(messages, sampling, thinking=args.thinking):
            if isinstance(event, Token) and not args.json:
                printer.write(event.reasoning, event.text)
            elif isinstance(event, Error):
                raise CliError(event.message)
            elif isinstance(event, Done):
                if args.json:
                    stats = event.stats
                    print(json.dumps({
                        "reply": event.text,
                        "reasoning": event.reasoning,
                        "reasoning_tokens": stats.reasoning_tokens,
                        "reasoning_s": round(stats.reasoning_s, 6),
                        "prompt_tokens": stats.prompt_tokens,
                        "cached_tokens": stats.cached_tokens,
                        "completion_tokens": stats.completion_tokens,
                        "ttft_s": round(stats.ttft_s, 6),
                        "prompt_tok_s": round(stats.prompt_tok_s, 2),
                        "decode_tok_s": round(stats.decode_tok_s, 2),
                        "stop_reason": stats.stop_reason.value,
                        "n_ctx": info.n_ctx,
                        "chat_template": info.chat_template,
                    }))
                else:
                    printer.finish()
    return 0


def run_gui(model: str | None) -> int:
    from app.ui.application import run_app

    return run_app(model)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return run_gui(args.model)
        if args.command == "chat":
            return run_chat(args)
        return args.handler(args)
    except CliError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. a folder Hearth must write to is read-only or full: one line, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"hearth: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
