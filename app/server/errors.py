"""OpenAI-style error answers, shared by the routes and the request guard."""

from __future__ import annotations

from starlette.responses import JSONResponse


def error_response(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status,
                        headers=headers)


def shown(value: str, limit: int = 80) -> str:
    """A header value quoted in a message, cut short."""
    return value if len(value) <= limit else value[:limit] + "…"
