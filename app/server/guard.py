"""Refuse, before any work, what a web page could send to a local server: a foreign Host (DNS
rebinding), an Origin the user did not allow, a POST that is not JSON (an HTML form, a text/plain
"simple" request). Allowed origins get CORS answers; nothing else gets a CORS grant."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.server.access import AccessPolicy
from app.server.errors import error_response, shown

JSON_TYPE = "application/json"


class RequestGuard:
    """ASGI middleware applying an AccessPolicy to every HTTP request."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        origin = headers.get("origin")
        if refusal is not None:
            if origin is not None and refusal.status_code == 415:  # an allowed page may read why
                grant(refusal.headers, origin)
            await refusal(scope, receive, send)
            return
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await preflight(origin, headers)(scope, receive, send)
            return

        async def granting(message: Message) -> None:
            if message["type"] == "http.response.start":
                grant(MutableHeaders(scope=message), origin)
            await send(message)

        await self.app(scope, receive, granting)

    def refusal(self, scope: Scope, headers: Headers) -> Response | None:
        """The answer refusing this request, or None to let it through."""
        host = headers.get("host")
        if not self.policy.host_allowed(host):
            return error_response(
                403, f"the Host '{shown(host or '')}' is not this computer: a server listening on "
                f"{self.policy.bind_host} answers only localhost names and loopback addresses",
                code="forbidden_host")
        origin = headers.get("origin")
        port = (scope.get("server") or (None, None))[1]
        if origin is not None and not self.policy.origin_allowed(origin, port):
            return error_response(
                403, f"web pages from '{shown(origin)}' may not use this server (allow them with "
                "`hearth serve --allow-origin ORIGIN`, or in the app's API server settings)",
                code="forbidden_origin")
        if scope["method"] == "POST":
            given = headers.get("content-type", "")
            if given.split(";", 1)[0].strip().lower() != JSON_TYPE:
                return error_response(
                    415, f"a POST body must be JSON sent with 'Content-Type: {JSON_TYPE}' "
                    f"(this one came as '{shown(given) or 'no type'}')", code="unsupported_media_type")
        return None


def grant(headers: MutableHeaders, origin: str) -> None:
    headers["Access-Control-Allow-Origin"] = origin
    headers.add_vary_header("Origin")


def preflight(origin: str, headers: Headers) -> Response:
    """The answer to an allowed origin's CORS preflight."""
    response = Response(status_code=204)
    grant(response.headers, origin)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    asked = headers.get("access-control-request-headers")
    response.headers["Access-Control-Allow-Headers"] = asked or "Authorization, Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    if headers.get("access-control-request-private-network", "").lower() == "true":
        response.headers["Access-Control-Allow-Private-Network"] = "true"  # Chrome, public page → localhost
    return response
