"""`hearth chat --runtime PATH`: the reply from a llama-server that Hearth starts and stops itself."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli.common import CliError
from app.cli.generation_args import load_options
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
    if architecture_problem(header.architecture):  # the reason to use a newer llama.cpp: say so
        print(f"{header.architecture}: running on {runtime.label}, which the built-in llama.cpp cannot",
              file=sys.stderr)
    options = load_options(args, str(header.shard_paths[0]))
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
