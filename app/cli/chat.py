"""`hearth chat`: one reply from a local model (or an OpenAI-compatible server), streamed to stdout."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from app.cli.chat_tools import add_tool_args
from app.cli.common import CliError
from app.cli.generation_args import add_generation_args, check_generation_args, conversation_from, load_options
from app.cli.images import add_image_args, attach_images, projector_for, without_images
from app.cli.plan import warn_if_it_may_not_fit
from app.engine.protocol import ModelInfo


def add_command(sub: argparse._SubParsersAction) -> None:
    chat = sub.add_parser("chat", help="one reply from a local model, streamed to stdout")
    chat.add_argument("prompt", help="the message to send")
    chat.add_argument("--model", help="path of a GGUF model file (with --engine: the server's model name)")
    chat.add_argument("--engine", help="URL of an OpenAI-compatible server to chat with instead of a local model")
    chat.add_argument("--api-key", default=None, help="API key for --engine")
    chat.add_argument("--runtime", help="run --model on this llama-server (the binary or its build folder) "
                                        "instead of the built-in llama.cpp")
    chat.add_argument("--json", action="store_true",
                      help="print one JSON object instead of streaming (the thinking is its \"reasoning\")")
    chat.add_argument("--logprobs", type=int, default=None, metavar="N",
                      help="with --json: add a \"logprobs\" list, each token's log-probability and its N (0-20) "
                           "most likely alternatives, as the API's logprobs")
    add_generation_args(chat)
    add_tool_args(chat)
    add_image_args(chat)
    chat.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    from app.cli.reply_printer import ReplyPrinter
    from app.engine import Done, EngineClient, EngineError, Error, Token
    from app.engine.protocol import Reading

    check_generation_args(args)
    conversation = conversation_from(args)
    attach_images(args, conversation)
    sampling = conversation.sampling
    if args.logprobs is not None:
        if not 0 <= args.logprobs <= 20:
            raise CliError("--logprobs must be between 0 and 20")
        if not args.json or args.engine:
            raise CliError("--logprobs works with --json and a local model (--model)")
        sampling = replace(sampling, top_logprobs=args.logprobs)
    if args.engine:
        from app.cli.remote import run_remote_chat

        return run_remote_chat(args, conversation.history(), sampling)
    if not args.model:
        raise CliError("chat needs --model PATH (or --engine URL)")
    if not args.runtime:  # the engine the app would use for this model (File → Engine runtimes, per model)
        from app.cli.runtime import saved_runtime

        args.runtime = saved_runtime(args.model)
    if args.runtime:
        from app.cli.runtime import run_runtime_chat

        return run_runtime_chat(args, conversation.history(), sampling)
    engine = EngineClient()
    engine.start()  # the engine process boots (and imports llama.cpp) while we go on
    options = replace(load_options(args, args.model), mmproj=projector_for(args), mmproj_gpu=not args.no_mmproj_offload)
    warn_if_it_may_not_fit(options)  # "needs about X, Y free: try ..." before the load, not a bare failure
    with engine:
        try:
            info = engine.load(options)
        except EngineError as exc:
            raise CliError(exc.message) from None
        if args.mcp:
            from app.cli.chat_tools import run_tool_chat

            return run_tool_chat(args, engine, info, conversation.history(), sampling)
        printer = ReplyPrinter(sys.stdout, color=sys.stdout.isatty())
        progress = sys.stderr.isatty()  # a slow prompt says how far it has read, on the terminal only
        history = conversation.history()
        conversation.begin_reply(0, info.name, sampling)
        for event in engine.chat(history, sampling, thinking=args.thinking):
            reply = conversation.take(event)
            if isinstance(event, Reading) and progress:
                sys.stderr.write(f"\rReading the prompt: {event.done:,} of {event.total:,} tokens…")
                sys.stderr.flush()
            elif progress:  # the progress line goes once the reply starts (or ends without a token)
                sys.stderr.write("\r\x1b[K")
                progress = False
            if isinstance(event, Token) and not args.json:
                printer.write(event.reasoning, event.text)
            elif isinstance(event, Error):
                raise CliError(event.message)
            elif isinstance(event, Done):
                if args.json and reply is not None:
                    stats = event.stats
                    image_tokens = (stats.prompt_tokens - engine.count(without_images(history)).prompt_tokens
                                    if args.image else 0)
                    print(json.dumps({
                        "reply": reply.content,
                        "reasoning": reply.reasoning,
                        "reasoning_tokens": stats.reasoning_tokens,
                        "reasoning_s": round(stats.reasoning_s, 6),
                        "prompt_tokens": stats.prompt_tokens,
                        "image_tokens": image_tokens,
                        "cached_tokens": stats.cached_tokens,
                        "completion_tokens": stats.completion_tokens,
                        "ttft_s": round(stats.ttft_s, 6),
                        "prompt_tok_s": round(stats.prompt_tok_s, 2),
                        "decode_tok_s": round(stats.decode_tok_s, 2),
                        "stop_reason": stats.stop_reason.value,
                        "n_ctx": info.n_ctx,
                        "chat_template": info.chat_template,
                        "memory": measured_memory(info),
                    } | logprobs_field(args, event)))
                else:
                    printer.finish()
    return 0


def measured_memory(info: ModelInfo) -> dict[str, object]:
    """What the load took (llama.cpp's buffers, the engine's resident memory) beside the plan for it."""
    from app.library.gguf_info import GGUFFileError, read_gguf_info
    from app.library.memory_plan import plan_memory

    measured: dict[str, object] = {"buffers": dict(info.buffers), "resident_bytes": info.resident_bytes}
    try:
        header = read_gguf_info(info.path)
    except (GGUFFileError, OSError):  # a remote model, or the file went away since the load
        return {"measured": measured}
    plan = plan_memory(header, info.n_ctx, info.n_gpu_layers, info.kv_cache_type, info.flash_attn, info.n_batch)
    return {"measured": measured, "plan": plan.as_dict()}


def logprobs_field(args: argparse.Namespace, done: object) -> dict[str, object]:
    """`--logprobs`: the reply's tokens as the API's chat `logprobs.content` list."""
    if args.logprobs is None:
        return {}
    from app.server.logprobs import chat_logprobs

    return {"logprobs": chat_logprobs(getattr(done, "probs", ()))["content"]}
