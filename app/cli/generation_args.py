"""The sampling and load flags `hearth chat` and `hearth compare` share, and what they become."""

from __future__ import annotations

import argparse
from dataclasses import replace

from app import load_limits as limits
from app.chat.conversation import Conversation
from app.chat.message import Message
from app.cli.common import CliError, check_load_args, gpu_layers_arg
from app.engine.protocol import LoadOptions
from app.engine.sampling import SamplingParams
from app.load_limits import flash_value

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
    parser.add_argument("--ctx", type=int, default=limits.CONTEXT_DEFAULT,
                        help="context size in tokens (0: the model's own)")
    parser.add_argument("--gpu-layers", type=gpu_layers_arg, default=limits.GPU_LAYERS_DEFAULT,
                        help="layers to offload to the GPU: a number, -1 for all, or auto (default: what fits)")
    parser.add_argument("--flash-attn", choices=list(limits.FLASH_VALUE), default=limits.FLASH_DEFAULT)
    parser.add_argument("--kv-cache", choices=list(limits.KV_CACHE_TYPES), default=limits.KV_CACHE_DEFAULT,
                        help="KV cache type")
    parser.add_argument("--batch", type=int, default=limits.BATCH_DEFAULT, help="prompt batch size")
    parser.add_argument("--no-mmap", action="store_true", help="read the model into memory instead of mapping it")
    parser.add_argument("--threads", type=int, default=limits.THREADS_DEFAULT, help="CPU threads (0: automatic)")
    parser.add_argument("--thinking", choices=THINKING, default="default",
                        help="switch a reasoning model's thinking on or off (low/medium/high: gpt-oss effort); "
                             "thinking is printed before the answer, each line prefixed with '> ' "
                             "(dimmed on a terminal)")
    parser.add_argument("--chat-template-file", default="", help="a .jinja chat template used instead of the model's")


def check_generation_args(args: argparse.Namespace) -> None:
    """One plain line for a flag out of range (exit status 2)."""
    check_load_args(args)
    if args.temperature is not None and args.temperature < 0:
        raise CliError("--temperature must be 0 or more")
    if args.max_tokens is not None and args.max_tokens < 0:
        raise CliError("--max-tokens must be 0 or more")


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
