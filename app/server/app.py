"""The OpenAI-compatible HTTP API over one loaded model (Starlette; no Qt)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.chat.message import Message
from app.engine import protocol as p
from app.engine.protocol import ErrorKind, OverflowPolicy, StopReason
from app.engine.token_probs import TokenProbs
from app.server.access import AccessPolicy, key_matches
from app.server.errors import error_response
from app.server.guard import RequestGuard
from app.server.limits import DEFAULT_LIMITS, ServerLimits
from app.server.logprobs import chat_logprobs, completion_logprobs
from app.server.request_log import RequestLog
from app.server.requests import BadRequest, parse_chat, parse_completion
from app.server.slot import UNFINISHED, ClientGone, ModelSlot, QueueFull, Ticket
from app.server.tool_replies import CallGate, calls_json, whole_message
from app.server.tool_requests import ToolOptions

MAX_BODY_BYTES = DEFAULT_LIMITS.max_body_bytes
BodyT = TypeVar("BodyT")  # what a request's parser makes of its JSON body

_FINISH = {
    StopReason.EOS: "stop",
    StopReason.STOP: "stop",
    StopReason.CANCELLED: "stop",
    StopReason.LENGTH: "length",
    StopReason.CONTEXT_FULL: "length",
    StopReason.ERROR: "stop",
    StopReason.TOOL_LIMIT: "stop",  # (the server runs no tools; named so every reason maps)
}


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class TooSlow(Exception):
    pass


def _engine_error_status(kind: ErrorKind) -> tuple[int, str, str | None]:
    if kind == ErrorKind.CONTEXT_OVERFLOW:
        return 400, "invalid_request_error", "context_length_exceeded"
    if kind == ErrorKind.BAD_REQUEST:
        return 400, "invalid_request_error", None
    return 500, "server_error", kind.value


def _usage(stats: p.Stats) -> dict:
    # cached_tokens: the prompt's tokens found in the cache (its sequence's or the RAM prompt store's), as OpenAI's
    return {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "total_tokens": stats.prompt_tokens + stats.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": stats.cached_tokens}}


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


async def _read_json(request: Request, limit: int, seconds: float):
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    raw = bytearray()  # json reads a bytearray as it is: no second copy of the body

    async def read() -> None:
        async for chunk in request.stream():
            if len(raw) + len(chunk) > limit:
                raise TooLarge(limit)
            raw.extend(chunk)

    try:
        await asyncio.wait_for(read(), seconds)
    except TimeoutError:
        raise TooSlow() from None
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadRequest("the request body nests JSON arrays or objects too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None


def _body_refusal(exc: BaseException, limits: ServerLimits) -> Response | None:
    """The answer to a body that could not be read or used, or None for an error that is not the client's."""
    closing = {"Connection": "close"}  # the rest of the body is never read: the connection cannot go on
    if isinstance(exc, TooLarge):
        return error_response(413, too_large_message(exc.limit, limits), code="request_too_large", headers=closing)
    if isinstance(exc, TooSlow):
        return error_response(408, f"the request body did not arrive within {limits.body_timeout_s:g} s",
                              code="request_timeout", headers=closing)
    if isinstance(exc, BadRequest):
        return error_response(400, exc.message, param=exc.param)
    if isinstance(exc, ClientDisconnect):
        return Response(status_code=499)
    return None


def too_large_message(limit: int, limits: ServerLimits) -> str:
    """Why a body is refused, naming pictures (the usual reason a request gets this big)."""
    def size(n: int) -> str:
        return f"{n // (1024 * 1024)} MB" if n % (1024 * 1024) == 0 else f"{n} bytes"

    if limit >= limits.max_image_body_bytes:
        return f"the request body is over {size(limit)}: send fewer or smaller pictures"
    return (f"the request body is over {size(limit)} (a chat request with pictures may be up to "
            f"{size(limits.max_image_body_bytes)} when the model sees images)")


def _disconnect_watcher(request: Request):
    async def wait() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    return wait


def create_app(engine, model_id: str | Callable[[], str], api_key: str | None = None,
               limits: ServerLimits = DEFAULT_LIMITS, access: AccessPolicy | None = None,
               allow_image_urls: bool = False, sees_images: Callable[[], bool] | None = None,
               shared: bool = False) -> Starlette:
    """The ASGI app serving `engine` (an EngineClient with a model loaded) as `model_id`: a name, or a
    function giving the current one (the app's server follows the model the chat has loaded).
    `access` says where it listens (default: loopback) and which web origins may use it. Image parts come
    as data: URLs (http(s) ones too with `allow_image_urls`); `sees_images` says whether the model has a
    projector (None: the engine says so when it gets one). `shared`: the engine also writes other callers'
    replies (the app's chats), so one of its sequences is left to them: API requests never queue ahead of a chat."""
    def together() -> int:
        return getattr(engine.info, "n_parallel", 1) or 1

    # An engine that batches gets twice as many replies as it decodes: the next ones wait in its own queue
    # and take a sequence at the very step one frees (as llama-server's queue), not a round trip later.
    def capacity() -> int:
        if shared:
            return max(1, together() - 1)
        return 2 * together() if together() > 1 else 1

    slot = ModelSlot(limits.max_waiting, capacity)
    created = int(time.time())
    served_name = model_id if callable(model_id) else (lambda: model_id)
    max_body_bytes = limits.max_body_bytes

    def denied(request: Request) -> Response | None:
        if not api_key or key_matches(request.headers.get("authorization"), api_key):
            return None
        return error_response(401, "missing or wrong API key (send 'Authorization: Bearer KEY')",
                              "invalid_request_error", code="invalid_api_key")

    async def health(request: Request) -> Response:
        state = slot.state()
        return JSONResponse({"status": "ok", "model": served_name(), "busy": state.busy, "waiting": state.waiting,
                             "active": state.active, "parallel": together()})

    async def props(request: Request) -> Response:
        # The part of llama-server's /props that remote clients read (Hearth's own included).
        n_ctx = engine.info.n_ctx if engine.info is not None else 0
        return JSONResponse({"model_alias": served_name(), "default_generation_settings": {"n_ctx": n_ctx}})

    async def models(request: Request) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        name = served_name()
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "hearth"}] if name else []})

    def chat_body_limit() -> int:
        """A model that sees images takes a larger chat request (its pictures); a text-only one does not."""
        sees = sees_images() if sees_images is not None else bool(getattr(engine.info, "mmproj", ""))
        return max(limits.max_image_body_bytes, max_body_bytes) if sees else max_body_bytes

    async def body_of(request: Request, parse: Callable[[object], BodyT],
                      limit: int = max_body_bytes) -> tuple[BodyT, Ticket] | Response:
        """The parsed body and its place in the queue, or the response refusing the request."""
        if (refusal := denied(request)) is not None:
            return refusal
        try:
            ticket = slot.admit()
        except QueueFull:
            return error_response(
                503, f"the server is busy: {slot.waiting} requests already wait, try again shortly",
                "server_error", code="queue_full", headers={"Retry-After": str(limits.retry_after_s)})
        try:
            raw = await _read_json(request, limit, limits.body_timeout_s)
            # off the event loop: decoding images, or fetching one (--allow-image-urls), must not stall the
            # server's other requests (the fetch has its own deadline, server/images.py)
            body = await run_in_threadpool(parse, raw)
        except BaseException as exc:
            ticket.release()
            if (refusal := _body_refusal(exc, limits)) is None:
                raise
            return refusal
        return body, ticket

    def tool_format() -> str:
        info = engine.info
        return getattr(info, "tool_format", "") if info is not None else ""

    async def answer(request: Request, ticket: Ticket, start, stream: bool, include_usage: bool, chunk,
                     whole, tools: ToolOptions | None = None, asked_probs: bool = False) -> Response:
        reply_id = f"{'chatcmpl' if whole is _chat_whole else 'cmpl'}-{uuid.uuid4().hex}"
        model_id = served_name()
        events = slot.generate(start, _disconnect_watcher(request), ticket)
        if stream:
            gate = CallGate(tools, tool_format()) if tools is not None and tools.parse_calls else None
            # The background task frees the queue place if the client left before the stream began.
            return StreamingResponse(_stream(events, reply_id, include_usage, chunk, gate, asked_probs),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                                     background=BackgroundTask(ticket.release))
        text, done = [], None
        try:
            async for event in events:
                if isinstance(event, p.Token):
                    text.append(event.text)
                elif isinstance(event, p.Error):
                    status, kind, code = _engine_error_status(event.kind)
                    return error_response(status, event.message, kind, code=code)
                elif isinstance(event, p.Done):
                    done = event
        except ClientGone:
            return Response(status_code=499)
        if done is None:  # the slot ends every reply with Done or Error; this only keeps a half reply out
            return error_response(500, UNFINISHED, "server_error")
        probs = done.probs if asked_probs else None
        result = whole(reply_id, created_now(), model_id, done.text, done.stats, probs)
        if tools is not None:
            message, called = whole_message(done.text, tools, tool_format(), done.tool_calls)
            result["choices"][0]["message"] = message
            if called:
                result["choices"][0]["finish_reason"] = "tool_calls"
        return JSONResponse(result)

    async def _stream(events: AsyncIterator, reply_id: str, include_usage: bool, chunk,
                      gate: CallGate | None = None, asked_probs: bool = False) -> AsyncIterator[str]:
        model_id = served_name()
        now = created_now()
        written = 0  # characters streamed so far (completions' text_offset)
        try:
            first = True
            async for event in events:
                if isinstance(event, p.Token):
                    probs = (event.probs, written) if asked_probs else None
                    text = gate.feed(event.text) if gate is not None else event.text
                    if text or gate is None:
                        yield _sse(chunk(reply_id, now, model_id, text, None, first, probs))
                        first = False
                    written += len(event.text)
                elif isinstance(event, p.Error):
                    _status, kind, code = _engine_error_status(event.kind)  # the stream's 200 is already sent
                    yield _sse({"error": {"message": event.message, "type": kind, "param": None, "code": code}})
                elif isinstance(event, p.Done):
                    finish = _FINISH[event.stats.stop_reason]
                    if gate is not None:  # what was held back: text, or the reply's calls
                        rest, calls = gate.finish(event.tool_calls)
                        if rest:
                            yield _sse(chunk(reply_id, now, model_id, rest, None, first))
                            first = False
                        if calls:
                            calls_chunk = chunk(reply_id, now, model_id, "", None, first)
                            calls_chunk["choices"][0]["delta"] = {**({"role": "assistant"} if first else {}),
                                                                  "tool_calls": calls_json(calls, indexed=True)}
                            yield _sse(calls_chunk)
                            first, finish = False, "tool_calls"
                    yield _sse(chunk(reply_id, now, model_id, "", finish, first))
                    if include_usage:
                        yield _sse({"id": reply_id, "object": "chat.completion.chunk"
                                    if chunk is _chat_chunk else "text_completion", "created": now,
                                    "model": model_id, "choices": [], "usage": _usage(event.stats)})
            yield _sse("[DONE]")
        except ClientGone:
            return

    async def chat_completions(request: Request) -> Response:
        admitted = await body_of(request, lambda raw: parse_chat(raw, allow_image_urls,
                                                                 sees_images() if sees_images else True),
                                 chat_body_limit())
        if isinstance(admitted, Response):
            return admitted
        body, ticket = admitted
        offered = {"tools": body.tools.as_json()} if body.tools.tools else {}  # as before when none are
        return await answer(request, ticket, lambda stop: engine.chat(body.conversation.history(), body.sampling,
                                                                      OverflowPolicy.STOP, stop=stop, **offered),
                            body.stream, body.include_usage, _chat_chunk, _chat_whole, body.tools,
                            body.sampling.top_logprobs >= 0)

    async def completions(request: Request) -> Response:
        admitted = await body_of(request, parse_completion)
        if isinstance(admitted, Response):
            return admitted
        body, ticket = admitted
        return await answer(request, ticket, lambda stop: engine.complete(body.prompt, body.sampling, stop=stop),
                            body.stream, body.include_usage, _text_chunk, _text_whole,
                            asked_probs=body.sampling.top_logprobs >= 0)

    async def not_found(request: Request, exc) -> Response:
        return error_response(404, f"no such endpoint: {request.method} {request.url.path}", "invalid_request_error")

    async def not_allowed(request: Request, exc) -> Response:
        return error_response(405, f"{request.method} is not allowed on {request.url.path}", "invalid_request_error")

    async def crashed(request: Request, exc) -> Response:
        return error_response(500, f"internal error: {type(exc).__name__}: {exc}", "server_error")

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/props", props, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
        ],
        exception_handlers={404: not_found, 405: not_allowed, Exception: crashed},
        middleware=[Middleware(RequestGuard, policy=access or AccessPolicy())],
    )
    app.state.slot = slot
    app.add_middleware(RequestLog)  # method, path, status, time of every request in Hearth's log
    return app


def created_now() -> int:
    return int(time.time())


# `probs`: None when the request asked for no logprobs; a chunk's also carry the reply's characters before it.


def _chat_chunk(reply_id: str, created: int, model: str, text: str, finish: str | None, first: bool,
                probs: tuple[Sequence[TokenProbs], int] | None = None) -> dict:
    delta: dict = {"content": text} if text or finish is None else {}
    if first and finish is None:
        delta["role"] = "assistant"
    return {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None if probs is None else chat_logprobs(probs[0]),
                         "finish_reason": finish}]}


def _chat_whole(reply_id: str, created: int, model: str, text: str, stats: p.Stats,
                probs: Sequence[TokenProbs] | None = None) -> dict:
    return {"id": reply_id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": Message.plain("assistant", text).to_openai(),
                         "logprobs": None if probs is None else chat_logprobs(probs),
                         "finish_reason": _FINISH[stats.stop_reason]}],
            "usage": _usage(stats)}


def _text_chunk(reply_id: str, created: int, model: str, text: str, finish: str | None, first: bool,
                probs: tuple[Sequence[TokenProbs], int] | None = None) -> dict:
    return {"id": reply_id, "object": "text_completion", "created": created, "model": model,
            "choices": [{"index": 0, "text": text,
                         "logprobs": None if probs is None else completion_logprobs(*probs),
                         "finish_reason": finish}]}


def _text_whole(reply_id: str, created: int, model: str, text: str, stats: p.Stats,
                probs: Sequence[TokenProbs] | None = None) -> dict:
    return {"id": reply_id, "object": "text_completion", "created": created, "model": model,
            "choices": [{"index": 0, "text": text, "logprobs": None if probs is None else completion_logprobs(probs),
                         "finish_reason": _FINISH[stats.stop_reason]}],
            "usage": _usage(stats)}
