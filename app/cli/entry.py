"""Builds the `hearth` parser from the command modules and runs the chosen command."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app import logs
from app.cli import chat, compare, desktop, doctor, hub, models, plan, prompt, serve
from app.cli.common import EXIT_USAGE, CliError, QuietParser


def build_parser() -> QuietParser:
    parser = QuietParser(prog="hearth", description="Chat with language models on your own computer.")
    parser.add_argument("--model", help="open the app with this GGUF model loaded")
    sub = parser.add_subparsers(dest="command", parser_class=QuietParser)
    chat.add_command(sub)
    compare.add_command(sub)
    hub.add_commands(sub)
    models.add_command(sub)
    doctor.add_command(sub)
    desktop.add_command(sub)
    plan.add_command(sub)
    prompt.add_command(sub)
    serve.add_command(sub)
    return parser


def run_gui(model: str | None) -> int:
    from app.ui.application import run_app

    return run_app(model)


def main(argv: Sequence[str] | None = None) -> int:
    logs.setup()  # the app's and every command's loads, downloads, requests and errors (never chat text)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return run_gui(args.model)
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
    finally:
        logs.stop()
