"""Hearth's log file: one rotating file in the log folder, written by the app, the CLI and the API server.

Modules log through `logging.getLogger(__name__)` (all under the `app` logger); `setup()` gives that
logger its file. What goes in: model loads (file, settings, time taken), errors with their tracebacks
(the engine process's too, sent back with its error), downloads (start, finish, failure) and API
requests (method, path, status, time). What never goes in: message text, prompts or tokens.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
from pathlib import Path

from app import paths

FILE_NAME = "hearth.log"
MAX_BYTES = 1 << 20  # a file this size is rotated: hearth.log.1 … hearth.log.3 keep the older lines
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
_RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) ")

_handler: logging.Handler | None = None
_hooks: tuple | None = None  # the exception hooks before ours, put back by stop()


def log_path() -> Path:
    return paths.log_dir(create=False) / FILE_NAME


def setup() -> Path | None:
    """Start writing the log file (again, if the log folder moved); its path, or None where it cannot
    be written (a read-only home: Hearth works on without a log and says nothing)."""
    global _handler
    path = log_path()
    logger = logging.getLogger("app")
    if _handler is not None:
        if getattr(_handler, "baseFilename", "") == str(path):
            return path
        _remove_handler(logger)
    try:
        paths.log_dir(create=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _handler = handler
    _install_hooks()
    return path


def stop() -> None:
    """Stop writing the file and put back the exception hooks (tests; the end of a process)."""
    global _hooks
    _remove_handler(logging.getLogger("app"))
    if _hooks is not None:
        sys.excepthook, threading.excepthook = _hooks
        _hooks = None


def _remove_handler(logger: logging.Logger) -> None:
    global _handler
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
        _handler = None


def _install_hooks() -> None:
    """Uncaught exceptions (the GUI thread's slots, any thread) reach the log before the usual report."""
    global _hooks
    if _hooks is not None:
        return
    before_main, before_thread = sys.excepthook, threading.excepthook
    _hooks = (before_main, before_thread)
    log = logging.getLogger("app.uncaught")

    def main_hook(kind, value, tb) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.error("uncaught %s", kind.__name__, exc_info=(kind, value, tb))
        before_main(kind, value, tb)

    def thread_hook(args) -> None:
        if args.exc_type is not SystemExit:
            name = args.thread.name if args.thread is not None else "?"
            log.error("uncaught %s in thread %s", args.exc_type.__name__, name,
                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        before_thread(args)

    sys.excepthook, threading.excepthook = main_hook, thread_hook


def recent_errors(limit: int = 5, path: Path | None = None) -> list[str]:
    """The last `limit` ERROR records of the log file (each with its traceback), oldest first."""
    path = path or log_path()
    lines: list[str] = []
    for part in (path.with_name(path.name + ".1"), path):  # the file rotated last, then the current one
        try:
            with part.open(encoding="utf-8", errors="replace") as handle:
                handle.seek(max(0, part.stat().st_size - MAX_BYTES))
                lines += handle.read().splitlines()
        except OSError:
            continue  # not there (yet): nothing to read in it
    records: list[list[str]] = []
    for line in lines:
        start = _RECORD_START.match(line)
        if start:
            records.append([line] if start.group("level") in ("ERROR", "CRITICAL") else [])
        elif records and records[-1]:
            records[-1].append(line)  # a traceback's lines belong to the record above them
    errors = ["\n".join(record) for record in records if record]
    return errors[-limit:] if limit > 0 else []
