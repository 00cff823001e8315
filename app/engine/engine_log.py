"""What the engine client writes to Hearth's log: each load (file, settings, time taken, outcome) and
each failed reply (the engine process's traceback included). Never a message, a prompt or a token."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from app.engine import protocol as p
from app.engine.protocol import EngineError, ErrorKind, LoadOptions

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


def logged_load(load: Callable) -> Callable:
    """Wraps EngineClient.load: one line per load, an ERROR for one that failed."""

    @functools.wraps(load)
    def wrapper(self, options: LoadOptions, *args, **kwargs):
        started = time.monotonic()
        name = Path(options.path).name
        try:
            info = load(self, options, *args, **kwargs)
        except EngineError as exc:  # an error (it is what a user reports), unless the app is quitting
            if getattr(self, "_closed", False):
                log.info("the load of %s stopped: the engine was shut down", name)
                raise
            log.error("%s", _with_detail(f"could not load {name} ({describe_settings(options)}) after "
                                         f"{time.monotonic() - started:.2f} s: {exc.kind.value}: {exc.message}",
                                         exc.detail))
            raise
        except Exception:
            log.exception("could not load %s (%s)", name, describe_settings(options))
            raise
        log.info("loaded %s in %.2f s (%s; context %d, %d of %d layers on the GPU, %d threads, template %s)",
                 name, time.monotonic() - started, describe_settings(options), info.n_ctx, info.n_gpu_layers,
                 info.n_layers, info.n_threads, info.chat_template)
        return info

    return wrapper


def logged_stream(stream: Callable[..., Iterator]) -> Callable[..., Iterator]:
    """Wraps a client's reply stream: a reply that fails is logged (its kind, message and traceback)."""

    @functools.wraps(stream)
    def wrapper(*args, **kwargs) -> Iterator:
        for event in stream(*args, **kwargs):
            if isinstance(event, p.Error) and getattr(args[0] if args else None, "_closed", False):
                log.info("a reply stopped: the engine was shut down")
            elif isinstance(event, p.Error):
                level = logging.WARNING if event.kind in _EXPECTED else logging.ERROR
                log.log(level, "%s", _with_detail(f"a reply failed: {event.kind.value}: {event.message}",
                                                  event.detail))
            yield event

    return wrapper
