"""HTTP plumbing for remote engines: plain-words errors, bounded retries, SSE lines (no Qt)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx

from app.engine.protocol import EngineError, ErrorKind
from app.engine.remote_cancel import RequestCancelled

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 3
MAX_RETRY_WAIT_S = 8.0


def describe_status(response: httpx.Response, base_url: str, model: str = "") -> EngineError:
    """An EngineError a user can read for an HTTP error status."""
    status = response.status_code
    detail = _server_message(response)
    if status in (401, 403):
        return EngineError(ErrorKind.AUTH, f"{base_url} refused the API key (HTTP {status}): "
                           "check the key in the endpoint's settings" + (f" — {detail}" if detail else ""))
    if status == 404:
        what = f"no model named {model!r}" if model else "no such endpoint"
        return EngineError(ErrorKind.NO_MODEL, f"{base_url} has {what} (HTTP 404)" + (f" — {detail}" if detail else ""))
    if status == 429:
        return EngineError(ErrorKind.RATE_LIMITED, f"{base_url} is rate-limiting requests (HTTP 429); "
                           "try again in a moment" + (f" — {detail}" if detail else ""))
    if status >= 500:
        return EngineError(ErrorKind.CONNECTION, f"{base_url} failed (HTTP {status})" + (f": {detail}" if detail else ""))
    return EngineError(ErrorKind.BAD_REQUEST, f"{base_url} rejected the request (HTTP {status})"
                       + (f": {detail}" if detail else ""))


def _server_message(response: httpx.Response) -> str:
    try:
        response.read()
        body = response.json()
    except Exception:
        try:
            return response.text.strip()[:300]
        except Exception:
            return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:300]
    if isinstance(error, str):
        return error[:300]
    return ""


def describe_transport(exc: Exception, base_url: str) -> EngineError:
    if isinstance(exc, httpx.ConnectTimeout):
        return EngineError(ErrorKind.CONNECTION, f"{base_url} did not answer the connection in time")
    if isinstance(exc, httpx.TimeoutException):
        return EngineError(ErrorKind.CONNECTION, f"{base_url} stopped answering (timed out)")
    if isinstance(exc, httpx.ConnectError):
        return EngineError(ErrorKind.CONNECTION, f"could not connect to {base_url}: is the server running "
                           "and the address right? ({exc})")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return EngineError(ErrorKind.CONNECTION, f"the connection to {base_url} was cut mid-reply")
    return EngineError(ErrorKind.CONNECTION, f"talking to {base_url} failed: {exc}")


def retry_wait(response: httpx.Response | None, attempt: int) -> float:
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_WAIT_S)
        except ValueError:
            pass
    return min(0.5 * 2**attempt, MAX_RETRY_WAIT_S)


def open_with_retry(
    send: Callable[[], httpx.Response], base_url: str, model: str = "", sleep: Callable[[float], None] = time.sleep,
    cancelled: Callable[[], bool] = lambda: False,
) -> httpx.Response:
    """Send until a success status; 429 and 5xx are retried a bounded number of times.

    `sleep` should return early once the request is stopped (see remote_cancel.wait_unless);
    a stopped request raises RequestCancelled instead of sending again."""
    for attempt in range(MAX_ATTEMPTS):
        last = attempt == MAX_ATTEMPTS - 1
        if cancelled():
            raise RequestCancelled()
        try:
            response = send()
        except httpx.HTTPError as exc:
            if cancelled():
                raise RequestCancelled() from None
            raise describe_transport(exc, base_url) from None
        if response.status_code < 400:
            return response
        if response.status_code in RETRY_STATUSES and not last:
            wait = retry_wait(response, attempt)
            response.close()
            sleep(wait)
            continue
        error = describe_status(response, base_url, model)
        response.close()
        raise error
    raise AssertionError("unreachable")


def sse_data(lines: Iterator[str]) -> Iterator[dict]:
    """The JSON payloads of an SSE stream, until `data: [DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        if not data:
            continue
        try:
            payload = json.loads(data)
        except ValueError:
            continue
        if isinstance(payload, dict):
            yield payload
