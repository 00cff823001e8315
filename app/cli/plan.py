"""`hearth plan`: how much memory a model will take, per component, before loading it."""

from __future__ import annotations

import argparse
import json

from app import load_limits as limits
from app.cli.common import CliError, check_load_args, gpu_layers_arg
from app.cli.images import add_offload_arg, plan_projector
from app.engine.protocol import LoadOptions


def add_command(sub: argparse._SubParsersAction) -> None:
    plan = sub.add_parser("plan", help="the memory a model will take (weights, KV cache, compute, ...)")
    plan.add_argument("--model", required=True, help="path of a GGUF model file")
    plan.add_argument("--ctx", type=int, default=limits.CONTEXT_DEFAULT, help="context size in tokens (0: trained)")
    plan.add_argument("--gpu-layers", type=gpu_layers_arg, default=0, help="layers on the GPU (-1: all)")
    plan.add_argument("--kv-cache", choices=sorted(limits.KV_CACHE_TYPES), default=limits.KV_CACHE_DEFAULT,
                      help="KV cache type")
    plan.add_argument("--batch", type=int, default=limits.BATCH_DEFAULT, help="batch size in tokens")
    plan.add_argument("--mmproj", default="", help="a vision model's image projector (default: the one paired)")
    add_offload_arg(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    plan.set_defaults(handler=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    from app.formatting import human_bytes
    from app.hardware import free_ram_bytes
    from app.library.architectures import architecture_problem
    from app.library.gguf_info import GGUFFileError, read_gguf_info
    from app.library.memory_plan import PART_WORDS, out_of_memory_advice, plan_memory

    check_load_args(args)
    if args.gpu_layers == limits.AUTO_LAYERS:
        raise CliError("--gpu-layers auto is decided at load time: give a number, or -1 for all")
    try:
        info = read_gguf_info(args.model)
    except (GGUFFileError, OSError) as exc:
        raise CliError(str(exc)) from None
    projector = plan_projector(args)
    plan = plan_memory(info, args.ctx, args.gpu_layers, args.kv_cache, n_batch=args.batch, projector=projector,
                       projector_gpu=not args.no_mmproj_offload and args.gpu_layers != 0)
    free = free_ram_bytes()
    advice = out_of_memory_advice(plan, free)
    problem = architecture_problem(info.architecture)
    if args.json:
        print(json.dumps({"model": str(info.path), "architecture": info.architecture, **plan.as_dict(),
                          "free_ram_bytes": free, "advice": advice, "problem": problem}))
        return 0
    gpu = any(p.gpu for p in plan.parts)
    print(f"{info.display_name}: context {plan.n_ctx:,}, KV cache {plan.kv_cache_type}, "
          f"flash attention {'on' if plan.flash_attn else 'off'}, {plan.n_gpu_layers} of {info.n_layers + 1} "
          "layers on the GPU")
    for part in plan.parts:
        where = f"  (GPU {human_bytes(part.gpu)})" if gpu else ""
        note = "  reserved; used while a long prompt is read" if part.reserved_only else ""
        note = "  reserved; used while a picture is read" if part.name == "projector_compute" else note
        print(f"  {PART_WORDS[part.name]:26s} {human_bytes(part.total):>9s}{where}{note}")
    print(f"  {'Resident once loaded':26s} {human_bytes(plan.resident_bytes):>9s}")
    print(f"  {'At most':26s} {human_bytes(plan.peak_bytes):>9s}  ({human_bytes(free)} of memory free now)")
    for line in (problem, advice):
        if line:
            print(line)
    return 0


def warn_if_it_may_not_fit(options: LoadOptions) -> None:
    """Before `hearth chat` loads a model: "needs about X, Y free: try ..." on stderr when the plan is more than
    the free memory (the load is still tried: a memory-mapped file may need less than it maps)."""
    import sys

    from app.hardware import free_ram_bytes, free_vram_bytes
    from app.library.gguf_info import GGUFFileError, read_gguf_info
    from app.library.memory_plan import out_of_memory_advice, plan_memory

    try:
        info = read_gguf_info(options.path)
    except (GGUFFileError, OSError):
        return  # the load names what is wrong with the file
    gpu_layers = options.n_gpu_layers if options.n_gpu_layers != limits.AUTO_LAYERS else 0
    try:
        from app.engine.load_params import projector_header

        projector = projector_header(options)  # a vision model's, with --image
    except (GGUFFileError, OSError):
        projector = None
    plan = plan_memory(info, options.n_ctx, gpu_layers, options.kv_cache_type, options.flash_attn, options.n_batch,
                       projector, options.mmproj_gpu and gpu_layers != 0)
    advice = out_of_memory_advice(plan, free_ram_bytes(), free_vram_bytes())
    if advice:
        print(f"This model may not fit: it {advice}", file=sys.stderr)
