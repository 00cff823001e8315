"""Help → Copy error details: the last errors from Hearth's log and the versions that matter, on the clipboard.

What a user pastes into a bug report. The errors come from the log file (so the engine process's and
an earlier session's are there too); the log never holds chat text, so neither does this.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

import app
from app import logs

ERRORS_SHOWN = 5


def cpu_name() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware")) and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Without importing llama_cpp: the GUI process never loads llama.cpp."""
    return {
        "Hearth": app.__version__,
        "Python": sys.version.split()[0],
        "Qt": f"{qVersion()} (PySide6 {pyside_version})",
        "llama-cpp-python": _package_version("llama-cpp-python"),
        "OS": platform.platform(),
        "CPU": f"{cpu_name()} ({platform.machine()})",
    }


def error_details(limit: int = ERRORS_SHOWN) -> tuple[str, int]:
    """The text to paste and how many errors it holds."""
    errors = logs.recent_errors(limit)
    lines = ["Hearth error details", ""]
    lines += [f"{name}: {value}" for name, value in versions().items()]
    lines += ["", f"Log file: {logs.log_path()}", ""]
    if errors:
        lines.append(f"The last {len(errors)} error(s), oldest first:")
        for error in errors:
            lines += ["", error]
    else:
        lines.append("No errors in the log.")
    return "\n".join(lines) + "\n", len(errors)


def copy_error_details(status_bar) -> str:
    """Put the details on the clipboard and say so in the status bar; returns what was copied."""
    text, count = error_details()
    QGuiApplication.clipboard().setText(text)
    found = f"the last {count} error(s)" if count else "no errors (none in the log)"
    status_bar.showMessage(f"Copied error details to the clipboard: {found} and the versions of Hearth, "
                           "Python, Qt, llama-cpp-python, the OS and the CPU.", 8000)
    return text
