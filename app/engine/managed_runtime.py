"""Which local models run on a managed llama-server, and the one server the router has started.

`runtime_chooser` answers, for a model file, the llama-server to run it on, or None for the built-in
engine: the runtime the user chose for that model, or, for a model whose architecture only a newer
llama.cpp knows, the configured runtime, automatically. The router (router.py) starts the server and
talks to it through RemoteEngine; one server runs at a time, and starting another stops the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

from app.engine.protocol import EngineError, LoadOptions
from app.engine.server_runtime import ManagedServer, RuntimeInfo, check_runtime
from app.library.architectures import architecture_problem
from app.library.gguf_info import GGUFFileError, read_gguf_info

BUILT_IN = "built-in"
RUNTIME = "llama-server"


@lru_cache(maxsize=8)
def _checked(binary: str, mtime_ns: int) -> RuntimeInfo:
    return check_runtime(binary)


def checked_runtime(path: str) -> RuntimeInfo:
    """check_runtime, once per build (a new binary at the same place is checked again)."""
    binary = Path(path).expanduser()
    return _checked(str(binary), binary.stat().st_mtime_ns if binary.exists() else 0)


def runtime_chooser(runtime_path: Callable[[], str],
                    engines: Callable[[], Mapping[str, str]]) -> Callable[[str], RuntimeInfo | None]:
    """The router's `runtime_for`: the configured runtime (Settings.engine_runtime) for a model set to
    RUNTIME in `engines` (Settings.model_engines), or whose architecture the built-in llama.cpp does not know."""

    def runtime_for(model_path: str) -> RuntimeInfo | None:
        path = runtime_path()
        choice = engines().get(model_path, "")
        if not path or choice == BUILT_IN:
            return None
        if choice != RUNTIME:
            try:
                if not architecture_problem(read_gguf_info(model_path).architecture):
                    return None
            except (GGUFFileError, OSError):
                return None  # the built-in engine names what is wrong with the file
        return checked_runtime(path)

    return runtime_for


class ServerSlot:
    """The one managed server in use (thread-safe: loads start it on their own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ManagedServer | None = None

    def start(self, runtime: RuntimeInfo, options: LoadOptions) -> ManagedServer:
        """Stop the server in use, start one for `options`; EngineError when it does not come up."""
        self.stop()
        server = ManagedServer(runtime, options)
        server.start()
        with self._lock:
            self._server = server
        return server

    def api_key(self, base_url: str) -> str | None:
        with self._lock:
            server = self._server
        return server.api_key if server is not None and server.url == base_url else None

    def stop(self, base_url: str = "") -> None:
        """Stop the server in use (only if it serves `base_url`, when given)."""
        with self._lock:
            server = self._server
            if server is None or (base_url and server.url != base_url):
                return
            self._server = None
        server.stop()


__all__ = ["BUILT_IN", "RUNTIME", "EngineError", "ServerSlot", "checked_runtime", "runtime_chooser"]
