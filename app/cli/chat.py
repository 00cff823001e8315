"""`hearth chat`: one reply from a local model (or an OpenAI-compatible server), streamed to stdout."""

from __future__ import annotations

import argparse
import json
import sys

from app.cli.common import CliError, gpu_layers_arg
from app.engine.protocol import AUTO_LAYERS


def add_command(sub: argparse._SubParsersAction) -> None:
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
    chat.add_argument("--gpu-layers", type=gpu_layers_arg, default=AUTO_LAYERS,
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

    chat.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.cli.reply_printer import ReplyPrinter
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
        from app.cli.remote import run_remote_chat

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
