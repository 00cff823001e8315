"""The `hearth` command: the GUI by default; sub-commands for scripts and diagnostics.

One module per command group (chat, prompt, hub, models, doctor, remote, serve);
`entry` builds the parser and dispatches. `main` is imported lazily so that the
command modules can import `app.cli.common` without importing every command.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli.entry import main as run

    return run(argv)
