"""HTTP plumbing for remote engines: plain-words errors, bounded retries, bounded bodies and
SSE lines (no Qt): a server that sends without end costs at most a few megabytes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from app.engine.protocol import EngineError, ErrorKind
from app.engine.remote_cancel import RequestCancelled
from app.engine.remote_payload import plain

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 3
MAX_RETRY_WAIT_S = 8.0
MAX_LINE_BYTES = 1 << 20  # one SSE line: a chunk of a reply is a few hundred bytes
MAX_JSON_BYTES = 16 << 20  # a JSON answer (/v1/models, /props, /tokenize of a long prompt)
MAX_ERROR_BYTES = 64 << 10  # an error answer, of which 300 characters are shown


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
        return EngineError(ErrorKind.CONNECTION,
                           f"{base_url} failed (HTTP {status})" + (f": {detail}" if detail else ""))
    return EngineError(ErrorKind.BAD_REQUEST, f"{base_url} rejected the request (HTTP {status})"
                       + (f": {detail}" if detail else ""))


def _server_message(response: httpx.Response) -> str:
    try:
        raw = read_bounded(response, MAX_ERROR_BYTES, "")
    except (EngineError, httpx.HTTPError):
        return ""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return plain(raw.decode("utf-8", errors="replace"))
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return plain(str(error.get("message", "")))
    if isinstance(error, str):
        return plain(error)
    return ""


def describe_transport(exc: Exception, base_url: str) -> EngineError:
    if isinstance(exc, httpx.ConnectTimeout):
        return EngineError(ErrorKind.CONNECTION, f"{base_url} did not answer the connection in time")
    if isinstance(exc, httpx.TimeoutException):
        return EngineError(ErrorKind.CONNECTION, f"{base_url} stopped answering (timed out)")
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or type(exc).__name__
        return EngineError(ErrorKind.CONNECTION, f"could not connect to {base_url} ({reason}): is the server "
                           "running and the address right?")
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
    return min(0.5 * 2.0**attempt, MAX_RETRY_WAIT_S)


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


def read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    """A streamed response's body, refused (EngineError) once it passes `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_big(what, limit)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_big(what, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def read_json(response: httpx.Response, what: str, limit: int = MAX_JSON_BYTES) -> object:
    """A streamed response's JSON body (at most `limit` bytes); EngineError when it is not JSON."""
    try:
        return json.loads(read_bounded(response, limit, what))
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise EngineError(ErrorKind.BAD_REQUEST, f"{what} did not answer JSON: "
                          "is this an OpenAI-compatible server?") from None


def _too_big(what: str, limit: int) -> EngineError:
    return EngineError(ErrorKind.BAD_REQUEST, f"{what} sent more than {limit >> 20 or 1} MiB: "
                       "is this an OpenAI-compatible server?")


def sse_lines(response: httpx.Response, base_url: str, limit: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of a streamed reply; EngineError for a line longer than `limit` bytes."""
    rest = b""
    for chunk in response.iter_bytes():
        rest += chunk
        *lines, rest = rest.split(b"\n")
        for line in lines:
            if len(line) > limit:
                raise _line_too_long(base_url, limit)
            yield line.rstrip(b"\r").decode("utf-8", errors="replace")
        if len(rest) > limit:
            raise _line_too_long(base_url, limit)
    if rest:
        yield rest.rstrip(b"\r").decode("utf-8", errors="replace")


def _line_too_long(base_url: str, limit: int) -> EngineError:
    return EngineError(ErrorKind.BAD_REQUEST, f"{base_url} sent a line longer than {limit >> 20 or 1} MiB "
                       "in its reply: is this an OpenAI-compatible server?")


def sse_data(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
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
        except (ValueError, RecursionError):
            continue
        if isinstance(payload, dict):
            yield payload
