"""What every command shares: the plain one-line error, the quiet parser, shared argument types."""

from __future__ import annotations

import argparse
from typing import NoReturn

from app.engine.protocol import AUTO_LAYERS

EXIT_USAGE = 2


class CliError(Exception):
    """A bad option or input: one line on stderr, exit status 2."""


class QuietParser(argparse.ArgumentParser):
    """Bad options become one plain line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message}")


def gpu_layers_arg(text: str) -> int:
    """`--gpu-layers`: a number, -1 for all, or auto."""
    if text == "auto":
        return AUTO_LAYERS
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, -1 or auto, got {text!r}") from None
    if value < -1:
        raise argparse.ArgumentTypeError("expected a number, -1 or auto")
    return value
