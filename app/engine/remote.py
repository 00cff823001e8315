"""A remote OpenAI-compatible engine (llama-server, vLLM, Ollama, LM Studio...): no Qt.

The same interface as EngineClient — load, chat, count, cancel, unload, close,
info — so callers need not care which one is in use. A remote model is named by
`LoadOptions.path` holding the server's model id (empty: the server's first model);
the endpoint itself is given when the RemoteEngine is made.

A reply is fitted to the server's context by the chat's overflow policy, like a local one
(exact token counts from llama-server's /apply-template + /tokenize, an estimate elsewhere), and
can be stopped at any moment — before the server's first byte and during a retry wait too
(see remote_cancel). What the server sends is read within bounds (remote_http) and checked for
shape (remote_payload); a reply always ends with one Done or Error (remote_stream).
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlparse

import httpx

from app.engine import protocol as p
from app.engine.protocol import (
    ChatMessage, CountResult, EngineError, ErrorKind, LoadOptions, ModelInfo, OverflowPolicy,
)
from app.engine.context import Budget, fit_messages, refusal_message
from app.engine.remote_cancel import Connections, RequestCancelled, shut, start_helper, wait_unless
from app.engine.remote_http import describe_transport, open_with_retry, read_json, sse_data, sse_lines
from app.engine.remote_payload import context_size, model_ids
from app.engine.remote_stream import ReplyReader
from app.engine.sampling import SamplingParams

CHARS_PER_TOKEN = 4  # the estimate when the server cannot count
EXTENSIONS = ("top_k", "min_p", "repeat_penalty")


def normalize_base_url(url: str) -> str:
    """'host:8080', 'http://host:8080/' or 'http://host:8080/v1' → 'http://host:8080'."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise EngineError(ErrorKind.BAD_REQUEST, f"not a server address: {url!r} (expected e.g. http://host:8080)")
    path = parsed.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[:-3]
    return f"{parsed.scheme}://{parsed.netloc}{path}"


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """About how many tokens a message list is, for a server that cannot count (~4 characters a token)."""
    chars = sum(len(m.content) + 8 for m in messages)
    return -(-chars // CHARS_PER_TOKEN)


def sampling_fields(sampling: SamplingParams, extensions: bool) -> dict:
    """SamplingParams as OpenAI request fields (plus llama.cpp's extensions when the server takes them)."""
    s = sampling.validated()
    body: dict = {"temperature": s.temperature, "top_p": s.top_p,
                  "presence_penalty": s.presence_penalty, "frequency_penalty": s.frequency_penalty}
    if s.max_tokens:
        body["max_tokens"] = s.max_tokens
    if s.seed >= 0:
        body["seed"] = s.seed
    if s.stop:
        body["stop"] = list(s.stop)[:4]
    if extensions:
        body.update({"top_k": s.top_k, "min_p": s.min_p, "repeat_penalty": s.repeat_penalty})
    return body


class RemoteEngine:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 120.0,
                 connect_timeout: float = 10.0, sleep: Callable[[float], None] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = normalize_base_url(base_url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Timeout(timeout, connect=connect_timeout)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, transport=transport, timeout=limits)
        # Each reply gets a connection of its own (no keep-alive), so Stop can shut exactly that one.
        self._replies = httpx.Client(base_url=self.base_url, headers=headers, transport=transport, timeout=limits,
                                     limits=httpx.Limits(max_keepalive_connections=0))
        self._sleep = sleep  # tests record retry waits instead of waiting; None: wait, unless stopped
        self._ids = itertools.count(1)
        self._connections = Connections()
        self._reply_stop = threading.Event()  # the reply under way: set by cancel()
        self._closed = False
        self._extensions = True  # cleared when the server rejects top_k/min_p/repeat_penalty
        self._can_tokenize: bool | None = None  # llama-server's /apply-template + /tokenize
        self.server_name = urlparse(self.base_url).netloc
        self.info: ModelInfo | None = None

    def _trace(self) -> dict:
        return {"trace": self._connections.trace(cancelled=lambda: self._closed)}

    # ---------------------------------------------------------- models

    def _get_json(self, path: str) -> object:
        """A GET's JSON answer, retried like a reply and read within MAX_JSON_BYTES."""
        closed = lambda: self._closed  # noqa: E731

        def send() -> httpx.Response:
            request = self._http.build_request("GET", path, extensions=self._trace())
            return self._http.send(request, stream=True)

        response = open_with_retry(send, self.base_url, sleep=self._sleep or (lambda s: wait_unless(s, closed)),
                                   cancelled=closed)
        try:
            return read_json(response, self.base_url + path)
        except httpx.HTTPError as exc:
            raise describe_transport(exc, self.base_url) from None
        finally:
            response.close()

    def _ask_json(self, method: str, path: str, **options) -> object | None:
        """An optional endpoint's JSON answer (llama-server's own), or None when it answers an error status."""
        request = self._http.build_request(method, path, extensions=self._trace(), **options)
        response = self._http.send(request, stream=True)
        try:
            return read_json(response, self.base_url + path) if response.status_code == 200 else None
        finally:
            response.close()

    def models(self) -> list[str]:
        """The ids the server's /v1/models lists."""
        try:
            return model_ids(self._get_json("/v1/models"), self.base_url)
        except (RequestCancelled, RuntimeError):  # RuntimeError: the client was closed meanwhile
            raise EngineError(ErrorKind.CRASHED, f"the connection to {self.base_url} was closed") from None

    def _context_size(self) -> int:
        try:  # llama-server tells its context size; other servers may not
            return context_size(self._ask_json("GET", "/props"))
        except (httpx.HTTPError, EngineError, RuntimeError):
            return 0

    def load(self, options: LoadOptions, on_progress: Callable[[float], None] | None = None) -> ModelInfo:
        t0 = time.perf_counter()
        available = self.models()
        name = options.path or (available[0] if available else "")
        if not name:
            raise EngineError(ErrorKind.NO_MODEL, f"{self.base_url} lists no models")
        if available and name not in available:
            raise EngineError(ErrorKind.NO_MODEL, f"{self.base_url} has no model named {name!r}; "
                              f"it has: {', '.join(available[:10])}")
        n_ctx = self._context_size()
        if on_progress is not None:
            on_progress(1.0)
        self.info = ModelInfo(
            path=name, name=f"{name} ({self.server_name})", architecture="remote", n_params=0, size_bytes=0,
            n_ctx=n_ctx, n_ctx_train=n_ctx, n_layers=0, n_gpu_layers=0, n_vocab=0, chat_template="server",
            flash_attn=None, load_seconds=time.perf_counter() - t0, gpu_backend="remote",
            notice=f"runs on {self.base_url}",
        )
        return self.info

    def _model(self) -> str:
        if self.info is None:
            raise EngineError(ErrorKind.NO_MODEL, "no remote model is chosen: load one first")
        return self.info.path

    # ---------------------------------------------------------- chat

    def chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams | None = None,
             overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE,
             stop: threading.Event | None = None) -> Iterator[p.Token | p.Done | p.Error]:
        """Stream a reply over SSE: Token events, then one Done or Error (which keeps any partial reply).

        The history is first fitted to the server's context by `overflow`. cancel(), close() or
        setting `stop` ends the reply within remote_cancel.POLL_SECONDS, whatever the server does:
        a Done marked cancelled, with the reply so far."""
        request_id = next(self._ids)
        sampling = (sampling or SamplingParams()).validated()
        flag = self._reply_stop = threading.Event()
        if self._closed:
            yield p.Error(request_id, ErrorKind.CRASHED, f"the connection to {self.base_url} was closed")
            return
        try:
            model = self._model()
        except EngineError as exc:
            yield p.Error(request_id, exc.kind, exc.message)
            return

        def cancelled() -> bool:
            return flag.is_set() or self._closed or (stop is not None and stop.is_set())

        sockets: list[socket.socket] = []  # the reply's connection, shut down when it is stopped
        out = start_helper(lambda post: self._reply(post, model, messages, overflow, sampling, sockets, cancelled),
                           "hearth-remote-reply")
        try:
            reader = ReplyReader(self.base_url, self.info.n_ctx if self.info else 0, sampling)
            yield from reader.events(request_id, out, cancelled)
        finally:
            flag.set()  # finished, stopped, or abandoned by the caller: the helper stops too
            for sock in sockets:
                shut(sock)

    def _reply(self, post: Callable[[object], None], model: str, messages: Sequence[ChatMessage],
               overflow: OverflowPolicy, sampling: SamplingParams, sockets: list[socket.socket],
               cancelled: Callable[[], bool]) -> None:
        """The helper thread's part: fit the history, send, and post the Budget then each SSE payload."""
        budget = self._fit(messages, overflow, sampling.max_tokens)
        post(budget)
        response = self._open_stream(model, budget.messages, sampling, sockets, cancelled)
        try:
            for payload in sse_data(sse_lines(response, self.base_url)):
                if cancelled():
                    return
                post(payload)
        finally:
            response.close()

    def _open_stream(self, model: str, messages: Sequence[ChatMessage], sampling: SamplingParams,
                     sockets: list[socket.socket], cancelled: Callable[[], bool]) -> httpx.Response:
        while True:
            body = {"model": model, "messages": [{"role": m.role, "content": m.content} for m in messages],
                    "stream": True, "stream_options": {"include_usage": True},
                    **sampling_fields(sampling, self._extensions)}

            def send(body=body) -> httpx.Response:
                trace = self._connections.trace(sockets, cancelled)
                request = self._replies.build_request("POST", "/v1/chat/completions", json=body,
                                                      extensions={"trace": trace})
                return self._replies.send(request, stream=True)

            try:
                return open_with_retry(send, self.base_url, model, cancelled=cancelled,
                                       sleep=self._sleep or (lambda s: wait_unless(s, cancelled)))
            except EngineError as exc:
                # A strict server (OpenAI itself) rejects fields it does not know: try once without them.
                if exc.kind == ErrorKind.BAD_REQUEST and self._extensions and any(k in exc.message for k in EXTENSIONS):
                    self._extensions = False
                    continue
                raise

    # ---------------------------------------------------------- counting and fitting

    def _counter(self, timeout: float | None) -> Callable[[Sequence[ChatMessage]], int]:
        """Prompt tokens of a message list: exact when the server can tell (llama-server), else estimated."""
        def count(messages: Sequence[ChatMessage]) -> int:
            exact = self._exact_count(messages, timeout)
            return estimate_tokens(messages) if exact is None else exact
        return count

    def _fit(self, messages: Sequence[ChatMessage], overflow: OverflowPolicy, max_tokens: int) -> Budget:
        """The history the chat's overflow policy keeps in the server's context (all of it when the
        server does not say its context size); EngineError CONTEXT_OVERFLOW when it cannot fit."""
        messages = tuple(messages)
        n_ctx = self.info.n_ctx if self.info else 0
        if not n_ctx:
            return Budget(messages, 0, 0)
        budget = fit_messages(messages, self._counter(30.0), n_ctx, overflow, max_tokens)
        if not budget.fits:
            raise EngineError(ErrorKind.CONTEXT_OVERFLOW, refusal_message(budget, overflow, n_ctx))
        return budget

    def count(self, messages: Sequence[ChatMessage], draft: str = "",
              overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, max_tokens: int = 0,
              timeout: float | None = 30.0) -> CountResult:
        """Prompt tokens after the overflow policy, exact when the server can tell (llama-server),
        otherwise an estimate flagged as such."""
        messages = list(messages) + ([ChatMessage("user", draft)] if draft else [])
        n_ctx = self.info.n_ctx if self.info else 0
        count = self._counter(timeout)
        if n_ctx:
            budget = fit_messages(messages, count, n_ctx, overflow, max_tokens)
        else:
            tokens = count(messages)
            budget = Budget(tuple(messages), tokens, tokens)
        return CountResult(prompt_tokens=budget.prompt_tokens, n_ctx=n_ctx, untrimmed_tokens=budget.untrimmed_tokens,
                           dropped_messages=budget.dropped_messages, truncated=budget.truncated, fits=budget.fits,
                           chat_template="server", estimated=self._can_tokenize is not True)

    def _exact_count(self, messages: Sequence[ChatMessage], timeout: float | None) -> int | None:
        if self._can_tokenize is False or self._closed:
            return None
        try:
            rendered = self._ask_json("POST", "/apply-template", timeout=timeout,
                                      json={"messages": [{"role": m.role, "content": m.content} for m in messages]})
            prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
            if not isinstance(prompt, str):
                self._can_tokenize = False
                return None
            tokens = self._ask_json("POST", "/tokenize", timeout=timeout,
                                    json={"content": prompt, "add_special": True, "parse_special": True})
            ids = tokens.get("tokens") if isinstance(tokens, dict) else None
            if not isinstance(ids, list):
                self._can_tokenize = False
                return None
            self._can_tokenize = True
            return len(ids)
        except (httpx.HTTPError, EngineError, RuntimeError):
            return None  # RuntimeError: the client was closed meanwhile

    # ---------------------------------------------------------- lifetime

    def cancel(self) -> None:
        """Stop the reply under way, at any moment: its caller gets the reply so far, marked cancelled,
        and its connection is shut down so the server stops generating."""
        self._reply_stop.set()

    def unload(self) -> None:
        self.info = None

    def close(self) -> None:
        """Stop the reply and every request under way (their sockets are shut down) and free the connections."""
        self._closed = True
        self._reply_stop.set()
        self._connections.shut_all()
        self.info = None
        self._http.close()
        self._replies.close()

    def __enter__(self) -> "RemoteEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
