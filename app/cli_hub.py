"""Sub-commands beside chat: registered here to keep cli.py short."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the hub, library and diagnostics commands (filled in by their modules)."""
    return None
