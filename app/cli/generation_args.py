"""The sampling and load flags `hearth chat` and `hearth compare` share, and what they become."""

from __future__ import annotations

import argparse
from dataclasses import replace

from app.chat.conversation import Conversation
from app.chat.message import Message
from app.cli.common import CliError, gpu_layers_arg
from app.engine.protocol import AUTO_LAYERS, LoadOptions
from app.engine.sampling import SamplingParams
from app.model_defaults import flash_value

THINKING = ("default", "on", "off", "low", "medium", "high")
SAMPLING_FLAGS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed", "max_tokens")


def add_generation_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", default="", help="system prompt")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--min-p", type=float, default=None)
    parser.add_argument("--repeat-penalty", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=None)
    parser.add_argument("--ctx", type=int, default=4096, help="context size in tokens (0: the model's own)")
    parser.add_argument("--gpu-layers", type=gpu_layers_arg, default=AUTO_LAYERS,
                        help="layers to offload to the GPU: a number, -1 for all, or auto (default: what fits)")
    parser.add_argument("--flash-attn", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--kv-cache", choices=["f16", "q8_0", "q4_0"], default="f16", help="KV cache type")
    parser.add_argument("--batch", type=int, default=512, help="prompt batch size")
    parser.add_argument("--no-mmap", action="store_true", help="read the model into memory instead of mapping it")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--thinking", choices=THINKING, default="default",
                        help="switch a reasoning model's thinking on or off (low/medium/high: gpt-oss effort); "
                             "thinking is printed before the answer, each line prefixed with '> ' "
                             "(dimmed on a terminal)")
    parser.add_argument("--chat-template-file", default="", help="a .jinja chat template used instead of the model's")


def check_generation_args(args: argparse.Namespace) -> None:
    """One plain line for a flag out of range (exit status 2)."""
    if args.ctx < 0:
        raise CliError("--ctx must be 0 or more")
    if args.temperature is not None and args.temperature < 0:
        raise CliError("--temperature must be 0 or more")
    if args.max_tokens is not None and args.max_tokens < 0:
        raise CliError("--max-tokens must be 0 or more")
    if args.batch <= 0:
        raise CliError("--batch must be a positive number")


def sampling_from(args: argparse.Namespace) -> SamplingParams:
    """Hearth's defaults, with each flag given on the command line put over them."""
    given = {name: getattr(args, name) for name in SAMPLING_FLAGS if getattr(args, name) is not None}
    return replace(SamplingParams(), **given)


def conversation_from(args: argparse.Namespace) -> Conversation:
    """The prompt on the command line as a conversation that is not stored: the system prompt and one message."""
    return Conversation.of([Message.plain("user", args.prompt)], system_prompt=args.system or "",
                           sampling=sampling_from(args), thinking=args.thinking)


def load_options(args: argparse.Namespace, path: str) -> LoadOptions:
    return LoadOptions(
        path=path, n_ctx=args.ctx, n_gpu_layers=args.gpu_layers,
        flash_attn=flash_value(args.flash_attn), n_threads=args.threads,
        n_batch=args.batch, kv_cache_type=args.kv_cache, use_mmap=not args.no_mmap,
        chat_template_file=args.chat_template_file,
    )
