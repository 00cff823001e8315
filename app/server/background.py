"""The local API server on a background thread, for the app's Settings switch (no Qt)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from app.server.access import AccessPolicy, parse_allowed_origins
from app.server.limits import DEFAULT_LIMITS, ServerLimits
from app.server.run import check_binding
from app.server.slot import SlotState

if TYPE_CHECKING:  # imported when the server starts: the app opens without uvicorn and Starlette loaded
    import uvicorn
    from starlette.applications import Starlette

STOP_GRACE_SECONDS = 0.5  # on stop (the switch, or quitting the app), how long replies under way may go on


class BackgroundServer:
    """Serve an already loaded engine on host:port until stop(); `state` says if it is busy and who waits.

    `model_id` is a name or a function giving the current one (the app's server follows the chat's model).
    The engine may be shared with other callers (the GUI's chats): replies take turns in it and each
    is stopped only by its own caller."""

    def __init__(self, engine, model_id: str | Callable[[], str], port: int = 8080, host: str = "127.0.0.1",
                 api_key: str | None = None, allowed_origins: Iterable[str] = (),
                 limits: ServerLimits = DEFAULT_LIMITS) -> None:
        refusal = check_binding(host, api_key)
        if refusal:
            raise ValueError(refusal)
        self.engine, self.model_id, self.host, self.port, self.api_key = engine, model_id, host, port, api_key
        self.access = AccessPolicy(host, parse_allowed_origins(allowed_origins))  # ValueError names a bad origin
        self.limits = limits
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._app: Starlette | None = None
        self.error = ""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and bool(self._server and self._server.started)

    @property
    def state(self) -> SlotState:
        """Whether a request is being answered and how many wait behind it."""
        return self._app.state.slot.state() if self._app is not None else SlotState(False, 0)

    @property
    def waiting(self) -> int:
        return self.state.waiting

    def start(self, timeout: float = 10.0) -> None:
        """Start listening (call off the GUI thread); raises OSError with a plain message if it cannot."""
        import uvicorn

        from app.server.app import create_app
        from app.server.connections import uvicorn_config

        # Bind here, so a port in use is a plain OSError, not a failure inside uvicorn's thread.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"could not listen on {self.host}:{self.port} (is the port in use?): "
                          f"{exc.strerror}") from None
        self._app = create_app(self.engine, self.model_id, self.api_key, self.limits, self.access, shared=True)
        config = uvicorn_config(self._app, self.limits, log_level="critical",
                                timeout_graceful_shutdown=STOP_GRACE_SECONDS)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="hearth-api-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError(f"the API server on {self.host}:{self.port} stopped while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise OSError(f"the API server did not start on {self.host}:{self.port}")
            time.sleep(0.01)

    def begin_stop(self) -> None:
        """Tell the server to stop, without waiting (quitting: the app waits for it within its budget)."""
        if self._server is not None:
            self._server.should_exit = True

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for the server's thread to end; True if it has (or never ran)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout=max(0.0, seconds))
            if thread.is_alive():
                return False
        self._server = self._thread = None
        return True

    def stop(self, seconds: float = 10.0) -> bool:
        """Stop serving: replies under way get STOP_GRACE_SECONDS, then their connections are closed."""
        self.begin_stop()
        return self.wait(seconds)
