"""`hearth serve`: answer the OpenAI-compatible API with a local model."""

from __future__ import annotations

import argparse

from app import load_limits as limits
from app.cli.common import CliError, check_load_args, gpu_layers_arg
from app.cli.images import add_offload_arg


def add_command(sub: argparse._SubParsersAction) -> None:
    from app.server.limits import DEFAULT_LIMITS

    serve = sub.add_parser("serve", help="answer the OpenAI-compatible API with a local model")
    serve.add_argument("--model", required=True, help="path of a GGUF model file")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this computer only; others need --api-key)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api-key", default=None, help="clients must send 'Authorization: Bearer KEY'")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="let web pages from ORIGIN (e.g. http://localhost:3000) use the API; repeatable; "
                            "* lets any page use it (default: none but the server's own address)")
    serve.add_argument("--max-queue", type=int, default=DEFAULT_LIMITS.max_waiting, metavar="N",
                       help=f"requests that may wait behind the ones being answered; more get 503 "
                            f"(default {DEFAULT_LIMITS.max_waiting})")
    serve.add_argument("--ctx", type=int, default=limits.CONTEXT_DEFAULT,
                       help="context size in tokens (0: the model's own)")
    serve.add_argument("--gpu-layers", type=gpu_layers_arg, default=limits.GPU_LAYERS_DEFAULT)
    serve.add_argument("--threads", type=int, default=limits.THREADS_DEFAULT, help="CPU threads (0: automatic)")
    serve.add_argument("--flash-attn", choices=list(limits.FLASH_VALUE), default=limits.FLASH_DEFAULT,
                       help="flash attention (default auto: off on the CPU, on with a GPU)")
    serve.add_argument("--mmproj", default="",
                       help="the image projector GGUF to load with the model (default: the one beside it, if any)")
    serve.add_argument("--parallel", type=int, default=None, metavar="N",
                       help="requests decoded together, sharing --ctx as llama-server's -np N does (default: as "
                            "many as free memory allows, 2 to 4, each with the whole --ctx)")
    serve.add_argument("--prompt-cache", type=int, default=limits.PROMPT_CACHE_AUTO, metavar="MIB",
                       help="RAM for prompts a sequence moved on from, found again when a request resends them "
                            "(as llama-server's --cache-ram; default -1: an eighth of free memory, at most 2 GiB; "
                            "0: none)")
    add_offload_arg(serve)
    serve.add_argument("--allow-image-urls", action="store_true",
                       help="fetch http(s) image URLs in requests (default: only data: URLs are taken)")
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.engine.batch_params import MAX_PARALLEL, serve_options
    from app.engine.protocol import LoadOptions
    from app.library.gguf_info import GGUFFileError
    from app.load_limits import check_prompt_cache, flash_value
    from app.server.access import parse_allowed_origins
    from app.server.limits import DEFAULT_LIMITS
    from app.server.run import check_binding, serve

    if not 0 < args.port < 65536:
        raise CliError("--port must be between 1 and 65535")
    check_load_args(args)
    if args.max_queue < 0:
        raise CliError("--max-queue must be 0 or more")
    try:
        parse_allowed_origins(args.allow_origin)
    except ValueError as exc:
        raise CliError(f"--allow-origin: {exc}") from None
    if args.parallel is not None and not 1 <= args.parallel <= MAX_PARALLEL:
        raise CliError(f"--parallel must be between 1 and {MAX_PARALLEL}")
    if why := check_prompt_cache(args.prompt_cache):
        raise CliError(f"--prompt-cache {why}")
    options = LoadOptions(path=args.model, n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, n_threads=args.threads,
                          flash_attn=flash_value(args.flash_attn), mmproj=serve_projector(args),
                          mmproj_gpu=not args.no_mmproj_offload, prompt_cache_mib=args.prompt_cache)
    if (refusal := check_binding(args.host, args.api_key)) is not None:
        raise CliError(refusal)  # before the model's header is read for --parallel's choice
    try:
        options = serve_options(options, args.parallel)
    except GGUFFileError as exc:
        raise CliError(str(exc)) from None
    limits = replace(DEFAULT_LIMITS, max_waiting=args.max_queue)
    try:
        return serve(options, args.host, args.port, args.api_key, allowed_origins=args.allow_origin, limits=limits,
                     allow_image_urls=args.allow_image_urls)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None


def serve_projector(args: argparse.Namespace) -> str:
    """--mmproj, or the projector paired with the model in its folder ("" for a text-only model)."""
    from pathlib import Path

    from app.library.projector import pair_projector

    if args.mmproj:
        if not Path(args.mmproj).expanduser().is_file():
            raise CliError(f"the image projector {args.mmproj} does not exist")
        return str(Path(args.mmproj).expanduser())
    found = pair_projector(args.model)
    return str(found) if found else ""
