"""What the engine client writes to Hearth's log: each load (file, settings, time taken, outcome) and
each failed reply (the engine process's traceback included). Never a message, a prompt or a token."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from app.engine import protocol as p
from app.engine.protocol import ErrorKind, LoadOptions

log = logging.getLogger("app.engine")

# Reply failures that say what was asked was not possible (a warning, not an error).
_EXPECTED = {ErrorKind.MISSING_FILE, ErrorKind.NOT_GGUF, ErrorKind.TRUNCATED, ErrorKind.UNSUPPORTED,
             ErrorKind.NO_MODEL, ErrorKind.CONTEXT_OVERFLOW, ErrorKind.BAD_REQUEST}


def describe_settings(options: LoadOptions) -> str:
    """The load settings that differ from the defaults, e.g. "n_ctx=2048, n_gpu_layers=-1"."""
    defaults = LoadOptions(path=options.path)
    changed = [f"{field.name}={getattr(options, field.name)!r}" for field in dataclasses.fields(options)
               if field.name != "path" and getattr(options, field.name) != getattr(defaults, field.name)]
    return ", ".join(changed) or "default settings"


def _with_detail(text: str, detail: str) -> str:
    return f"{text}\nin the engine process:\n{detail.rstrip()}" if detail else text


def load_ended(options: LoadOptions, seconds: float, event: p.Event, closed: bool) -> None:
    """One line per load (an ERROR for one that failed, unless the app was quitting)."""
    name = Path(options.path).name
    if isinstance(event, p.Loaded):
        info = event.info
        log.info("loaded %s in %.2f s (%s; context %d, %d of %d layers on the GPU, %d threads, template %s)",
                 name, seconds, describe_settings(options), info.n_ctx, info.n_gpu_layers, info.n_layers,
                 info.n_threads, info.chat_template)
    elif isinstance(event, p.Error) and closed:
        log.info("the load of %s stopped: the engine was shut down", name)
    elif isinstance(event, p.Error):
        log.error("%s", _with_detail(f"could not load {name} ({describe_settings(options)}) after {seconds:.2f} s: "
                                     f"{event.kind.value}: {event.message}", event.detail))


def reply_failed(event: p.Error, closed: bool) -> None:
    """A reply that failed: its kind, message and the engine's traceback (a warning when it was refused)."""
    if closed:
        log.info("a reply stopped: the engine was shut down")
        return
    level = logging.WARNING if event.kind in _EXPECTED else logging.ERROR
    log.log(level, "%s", _with_detail(f"a reply failed: {event.kind.value}: {event.message}", event.detail))
