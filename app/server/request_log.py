"""One log line per API request: method, path, status and time taken; never a body or a header.

A plain ASGI wrapper, so a streamed reply is timed to its last byte and a client that hangs up
mid-stream is still logged. A request that raises is logged with its traceback.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("app.server.requests")


class RequestLog:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def send_and_note(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        outcome = ""
        try:
            await self.app(scope, receive, send_and_note)
        except BaseException as exc:
            outcome = f" ({type(exc).__name__})"
            if not status[0]:
                status[0] = 500
            if isinstance(exc, Exception):
                log.error("%s %s failed", scope.get("method", "?"), scope.get("path", "?"), exc_info=exc)
            raise
        finally:
            # the path without its query string: a query could carry what a client typed
            log.info("%s %s %d %.3f s%s", scope.get("method", "?"), scope.get("path", "?"), status[0],
                     time.perf_counter() - started, outcome)
