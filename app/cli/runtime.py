"""`hearth chat --runtime PATH`: the reply from a llama-server that Hearth starts and stops itself."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace

from app.cli.common import CliError
from app.cli.generation_args import load_options
from app.cli.images import projector_for
from app.engine.protocol import ChatMessage
from app.engine.sampling import SamplingParams


def run_runtime_chat(args: argparse.Namespace, messages: Sequence[ChatMessage], sampling: SamplingParams) -> int:
    """Start llama-server for --model, chat with it as with any OpenAI-compatible server, then stop it."""
    from app.cli.remote import run_remote_chat
    from app.engine.protocol import EngineError
    from app.engine.server_runtime import ManagedServer, check_runtime
    from app.library.architectures import architecture_problem
    from app.library.gguf_info import GGUFFileError, read_gguf_info

    try:
        runtime = check_runtime(args.runtime)
        header = read_gguf_info(args.model)
    except EngineError as exc:
        raise CliError(exc.message) from None
    except (GGUFFileError, OSError) as exc:
        raise CliError(str(exc)) from None
    if problem := architecture_problem(header.architecture):  # the reason to use a newer llama.cpp: say so
        print(f"{problem}: {runtime.label} will run it", file=sys.stderr)
    options = replace(load_options(args, str(header.shard_paths[0])), mmproj=projector_for(args),
                      mmproj_gpu=not args.no_mmproj_offload)  # the server reads --image's pictures too
    server = ManagedServer(runtime, options)
    try:
        server.start()
    except EngineError as exc:
        raise CliError(exc.message) from None
    try:
        args.engine, args.api_key, args.model = server.url, server.api_key, ""
        return run_remote_chat(args, messages, sampling)
    finally:
        server.stop()


def saved_runtime(model: str) -> str:
    """The llama-server the app would run `model` on (Settings.engine_runtime, for a model set to it or
    whose architecture the built-in llama.cpp does not know), or "" for the built-in engine."""
    from app.engine.managed_runtime import runtime_chooser
    from app.settings import Settings

    settings = Settings.load()
    if not settings.engine_runtime:
        return ""
    try:
        runtime = runtime_chooser(lambda: settings.engine_runtime, lambda: settings.model_engines)(model)
    except Exception:  # noqa: BLE001 - an unusable runtime: the built-in engine says what it can
        return ""
    return runtime.binary if runtime is not None else ""
