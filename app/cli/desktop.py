"""`hearth desktop-entry`: put Hearth in the desktop's application menu (or take it out).

The single-file bundle can live anywhere (~/Applications, ~/bin, a USB stick), so no installer
knows where it is: this writes a desktop entry that starts this very file, and Hearth's icon,
into the user's own folders (XDG_DATA_HOME, by default ~/.local/share). Run it again after
moving the file or replacing it with a newer one under another name.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from app.bundled import bundled_file
from app.cli.common import CliError

ENTRY_NAME = "hearth.desktop"
ICON_NAME = "hearth.svg"


def add_command(sub: argparse._SubParsersAction) -> None:
    desktop = sub.add_parser("desktop-entry", help="add Hearth to the application menu (--remove: take it out)")
    desktop.add_argument("--remove", action="store_true", help="remove the menu entry and icon this command wrote")
    desktop.set_defaults(handler=run_desktop_entry)


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def this_program() -> Path:
    """The file the menu entry should start: the bundle itself, or the `hearth` script of a checkout."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve()
    return Path(sys.argv[0]).resolve()


def exec_value(path: Path) -> str:
    """`path` quoted for a desktop entry's Exec key (the Desktop Entry Specification's rules)."""
    text = str(path)
    if not any(c in text for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return text
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in text)
    return '"' + escaped.replace("\\", "\\\\") + '"'  # the key's own escaping doubles each backslash again


def entry_text(program: Path) -> str:
    template = bundled_file("resources", ENTRY_NAME)
    if template is None:
        raise CliError(f"{ENTRY_NAME} is missing from this installation")
    lines = []
    for line in template.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_value(program)}"
        elif line.startswith("TryExec="):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def run_desktop_entry(args: argparse.Namespace) -> int:
    entry = data_home() / "applications" / ENTRY_NAME
    icon = data_home() / "icons" / "hicolor" / "scalable" / "apps" / ICON_NAME
    if args.remove:
        for path in (entry, icon):
            path.unlink(missing_ok=True)
        print(f"removed {entry} and {icon}")
        return 0
    source_icon = bundled_file("resources", ICON_NAME)
    if source_icon is None:
        raise CliError(f"{ICON_NAME} is missing from this installation")
    program = this_program()
    text = entry_text(program)
    for path in (entry, icon):
        path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_icon, icon)
    partial = entry.with_suffix(".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, entry)
    print(f"added Hearth to the application menu: {entry} starts {program}")
    return 0
