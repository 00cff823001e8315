"""Hub failures as one exception type with a message a person can act on."""

from __future__ import annotations

import os
from enum import StrEnum


class HubErrorKind(StrEnum):
    OFFLINE = "offline"
    NETWORK = "network"
    AUTH = "auth"
    GATED = "gated"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    DISK = "disk"
    CORRUPT = "corrupt"
    UNSAFE = "unsafe"
    PAUSED = "paused"  # a download stopped by Pause: it resumes later
    CANCELLED = "cancelled"  # a download stopped for good


class HubError(Exception):
    def __init__(self, kind: HubErrorKind, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.kind = HubErrorKind(kind)
        self.message = message
        self.retry_after = retry_after


def hub_endpoint() -> str:
    """HF_ENDPOINT as set now (huggingface_hub reads it only once, at import)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def is_offline() -> bool:
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "")
    return value.upper() in ("1", "ON", "YES", "TRUE") or bool(constants.HF_HUB_OFFLINE)


def error_for_status(status: int, what: str, retry_after: float = 0.0) -> HubError:
    if status == 401:
        return HubError(HubErrorKind.AUTH,
                        f"{what}: the Hub asks for a token. Add your Hugging Face token in Settings "
                        "(it is needed for private and gated models).")
    if status == 403:
        return HubError(HubErrorKind.GATED,
                        f"{what}: access denied. This model may be gated: accept its licence on its "
                        "Hugging Face page with the account whose token Hearth uses.")
    if status == 404:
        return HubError(HubErrorKind.NOT_FOUND, f"{what}: not found on the Hub (check the name; it may be private).")
    if status == 429:
        return HubError(HubErrorKind.RATE_LIMITED,
                        f"{what}: the Hub is rate-limiting requests; try again in a minute.", retry_after)
    if status >= 500:
        return HubError(HubErrorKind.SERVER, f"{what}: the Hub had a server error ({status}); try again later.")
    return HubError(HubErrorKind.SERVER, f"{what}: unexpected answer from the Hub ({status}).")


def retry_after_seconds(header: str | None) -> float:
    """A Retry-After in seconds (an HTTP date, nonsense or a negative number counts as no wait)."""
    try:
        return max(float(header or 0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def translate(exc: Exception, what: str) -> HubError:
    """Turn a huggingface_hub or HTTP exception into a HubError."""
    if isinstance(exc, HubError):
        return exc
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if response is not None and isinstance(status, int):
        headers = getattr(response, "headers", None) or {}
        return error_for_status(status, what, retry_after_seconds(headers.get("Retry-After", "")))
    name = type(exc).__name__
    if "Offline" in name:
        return HubError(HubErrorKind.OFFLINE, "Hearth is offline (HF_HUB_OFFLINE is set): the Hub cannot be reached.")
    return HubError(HubErrorKind.NETWORK, f"{what}: cannot reach the Hub ({name}). Check your internet connection.")
