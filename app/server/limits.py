"""How much the API server takes on at once and how long it waits for a slow client (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = 4 * 1024 * 1024  # a larger request body gets 413
    # ... and for a chat request to a model that sees images: pictures come base64-encoded, a third larger
    # than their files (each at most 32 MB, app/image_header.py)
    max_image_body_bytes: int = 48 * 1024 * 1024
    max_waiting: int = 8  # requests held behind the one being answered (reading a body counts); more get 503
    retry_after_s: int = 5  # the Retry-After of that 503
    max_connections: int = 100  # open connections; past it the oldest idle one is closed (or the new one refused)
    header_timeout_s: float = 10.0  # from connecting (or the previous reply) to a request's last header line
    body_timeout_s: float = 30.0  # from the last header line to the body's last byte (408 after)
    keep_alive_s: int = 5  # how long an idle connection stays open between requests


DEFAULT_LIMITS = ServerLimits()
