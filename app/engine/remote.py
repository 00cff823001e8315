"""A remote OpenAI-compatible engine (llama-server, vLLM, Ollama, LM Studio...): no Qt.

The same interface as EngineClient (engine_api.Engine: jobs, and the blocking calls over
them), so callers need not care which one is in use. Each job runs on its own thread
(remote_jobs). A remote model is named by `LoadOptions.path` holding the server's model id
(empty: the server's first model); the endpoint itself is given when the RemoteEngine is made.

A reply is fitted to the server's context by the chat's overflow policy, like a local one
(exact token counts from llama-server's /apply-template + /tokenize, an estimate elsewhere), and
can be stopped at any moment — before the server's first byte and during a retry wait too
(see remote_cancel and remote_jobs). What the server sends is read within bounds (remote_http) and checked for
shape (remote_payload); a reply always ends with one Done or Error (remote_stream).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Self
from urllib.parse import urlparse

import httpx

from app.engine import jobs
from app.engine import protocol as p
from app.engine.context import Budget, fit_messages, refusal_message
from app.engine.engine_api import COUNT_TIMEOUT, BlockingCalls
from app.engine.jobs import EventSink
from app.engine.protocol import (
    ChatMessage,
    CountResult,
    EngineError,
    ErrorKind,
    LoadOptions,
    ModelInfo,
    OverflowPolicy,
)
from app.engine.remote_cancel import Connections, RequestCancelled
from app.engine.remote_http import describe_transport, open_with_retry, read_json, sse_data, sse_lines
from app.engine.remote_images import openai_message
from app.engine.remote_jobs import JobThreads, RemoteJob
from app.engine.remote_payload import context_size, model_ids
from app.engine.remote_stream import ReplyReader
from app.engine.remote_tools import tool_fields, with_tool_fields
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFInfo

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
    path = path.removesuffix("/v1")
    return f"{parsed.scheme}://{parsed.netloc}{path}"


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """About how many tokens a message list is, for a server that cannot count (~4 characters a token)."""
    chars = sum(len(m.content) + 8 for m in messages)
    return -(-chars // CHARS_PER_TOKEN)


def sampling_fields(sampling: SamplingParams, extensions: bool) -> dict[str, Any]:
    """SamplingParams as OpenAI request fields (plus llama.cpp's extensions when the server takes them)."""
    s = sampling.validated()
    body: dict[str, Any] = {"temperature": s.temperature, "top_p": s.top_p,
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


class RemoteEngine(JobThreads, BlockingCalls):
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 120.0,
                 connect_timeout: float = 10.0, sleep: Callable[[float], None] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__()
        self.base_url = normalize_base_url(base_url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Timeout(timeout, connect=connect_timeout)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, transport=transport, timeout=limits)
        # Each reply gets a connection of its own (no keep-alive), so Stop can shut exactly that one.
        self._replies = httpx.Client(base_url=self.base_url, headers=headers, transport=transport, timeout=limits,
                                     limits=httpx.Limits(max_keepalive_connections=0))
        self._sleep = sleep  # tests record retry waits instead of waiting; None: wait, unless stopped
        self._connections = Connections()
        self._closing = threading.Event()  # set by close(): every wait ends
        self._closed = False
        self._extensions = True  # cleared when the server rejects top_k/min_p/repeat_penalty
        self._can_tokenize: bool | None = None  # llama-server's /apply-template + /tokenize
        self.server_name = urlparse(self.base_url).netloc
        self.info: ModelInfo | None = None

    def _trace(self) -> dict[str, Any]:
        return {"trace": self._connections.trace(cancelled=lambda: self._closed)}

    def _waiter(self, stop: threading.Event) -> Callable[[float], None]:
        """How a retry waits: `stop` (or close) ends the wait at once; tests record the waits instead."""
        if self._sleep is not None:
            return self._sleep

        def wait(seconds: float) -> None:
            stop.wait(seconds)

        return wait

    # ---------------------------------------------------------- models

    def _get_json(self, path: str) -> object:
        """A GET's JSON answer, retried like a reply and read within MAX_JSON_BYTES."""
        def send() -> httpx.Response:
            request = self._http.build_request("GET", path, extensions=self._trace())
            return self._http.send(request, stream=True)

        response = open_with_retry(send, self.base_url, sleep=self._waiter(self._closing),
                                   cancelled=self._closing.is_set)
        try:
            return read_json(response, self.base_url + path)
        except httpx.HTTPError as exc:
            raise describe_transport(exc, self.base_url) from None
        finally:
            response.close()

    def _ask_json(self, method: str, path: str, **options: Any) -> object | None:
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
            raise EngineError(ErrorKind.CRASHED, self._closed_message()) from None

    def _closed_message(self) -> str:
        return f"the connection to {self.base_url} was closed"

    def _context_size(self) -> int:
        try:  # llama-server tells its context size; other servers may not
            return context_size(self._ask_json("GET", "/props"))
        except (httpx.HTTPError, EngineError, RuntimeError):
            return 0

    def start_load(self, options: LoadOptions, on_event: EventSink, gguf: GGUFInfo | None = None,
                   job_id: int = 0) -> int:
        """Choose the server's model `options.path` (empty: its first): Progress, then Loaded or Error."""
        def work(job: RemoteJob) -> None:
            try:
                info = self._model_info(options)
            except EngineError as exc:
                job.events.send(p.Error(job.id, exc.kind, exc.message))
                return
            if job.cancelled():
                return
            self.info = info
            job.events.send(p.Progress(job.id, 1.0))
            job.events.send(p.Loaded(job.id, info))

        return self._run("load", on_event, work, "hearth-remote-load", job_id)

    def _model_info(self, options: LoadOptions) -> ModelInfo:
        t0 = time.perf_counter()
        available = self.models()
        name = options.path or (available[0] if available else "")
        if not name:
            raise EngineError(ErrorKind.NO_MODEL, f"{self.base_url} lists no models")
        if available and name not in available:
            raise EngineError(ErrorKind.NO_MODEL, f"{self.base_url} has no model named {name!r}; "
                              f"it has: {', '.join(available[:10])}")
        n_ctx = self._context_size()
        return ModelInfo(
            path=name, name=f"{name} ({self.server_name})", architecture="remote", n_params=0, size_bytes=0,
            n_ctx=n_ctx, n_ctx_train=n_ctx, n_layers=0, n_gpu_layers=0, n_vocab=0, chat_template="server",
            flash_attn=None, load_seconds=time.perf_counter() - t0, gpu_backend="remote",
            notice=f"runs on {self.base_url}",
        )

    def _model(self) -> str:
        if self.info is None:
            raise EngineError(ErrorKind.NO_MODEL, "no remote model is chosen: load one first")
        return self.info.path

    # ---------------------------------------------------------- chat

    def start_chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
                   thinking: str, on_event: EventSink, job_id: int = 0, tools: str = "") -> int:
        """Stream a reply over SSE: Token events, then one Done or Error (which keeps any partial reply).

        The history is first fitted to the server's context by `overflow`; the server applies its own
        template (`thinking` is the server's to choose) and parses the calls of the `tools` offered (the Done's
        `tool_calls`). cancel(job id) or close()
        end the reply at once, whatever the server does: a Done marked cancelled, with the reply so far."""
        history, checked = tuple(messages), sampling.validated()
        return self._run("chat", on_event, lambda job: self._reply(job, history, overflow, checked, tools),
                         "hearth-remote-reply", job_id)

    def _reply(self, job: RemoteJob, messages: tuple[ChatMessage, ...], overflow: OverflowPolicy,
               sampling: SamplingParams, tools: str = "") -> None:
        """The reply job's thread: fit the history, send, read the stream, and hand on each event."""
        if self._closed:
            job.events.send(p.Error(job.id, ErrorKind.CRASHED, self._closed_message()))
            return
        try:
            model = self._model()
        except EngineError as exc:
            job.events.send(p.Error(job.id, exc.kind, exc.message))
            return
        reader = ReplyReader(self.base_url, self.info.n_ctx if self.info else 0, sampling)
        job.stopped = lambda: reader.done(job.id, p.StopReason.CANCELLED)

        def payloads() -> Iterator[object]:
            budget = self._fit(messages, overflow, sampling.max_tokens)
            yield budget
            response = self._open_stream(model, budget.messages, sampling, job, tools)
            try:
                yield from sse_data(sse_lines(response, self.base_url))
            finally:
                response.close()

        for event in reader.events(job.id, payloads(), job.cancelled):
            job.events.send(event)

    def _open_stream(self, model: str, messages: Sequence[ChatMessage], sampling: SamplingParams,
                     job: RemoteJob, tools: str = "") -> httpx.Response:
        while True:
            body = {"model": model, "messages": [with_tool_fields(openai_message(m), m) for m in messages],
                    "stream": True, "stream_options": {"include_usage": True},
                    **sampling_fields(sampling, self._extensions), **tool_fields(tools)}

            def send(body: dict[str, Any] = body) -> httpx.Response:
                trace = self._connections.trace(job.sockets, job.cancelled)
                request = self._replies.build_request("POST", "/v1/chat/completions", json=body,
                                                      extensions={"trace": trace})
                return self._replies.send(request, stream=True)

            try:
                return open_with_retry(send, self.base_url, model, cancelled=job.cancelled,
                                       sleep=self._waiter(job.stop))
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

    def start_count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
                    thinking: str, on_event: EventSink, timeout: float | None = COUNT_TIMEOUT,
                    job_id: int = 0, tools: str = "") -> int:
        """Prompt tokens after the overflow policy, exact when the server can tell (llama-server),
        otherwise an estimate flagged as such. Runs beside a reply, never behind it. (`tools`: not
        counted yet: the server's template describes them its own way.)"""
        history = tuple(messages)

        def work(job: RemoteJob) -> None:
            try:
                result = self._count(history, draft, overflow, max_tokens, timeout)
            except EngineError as exc:
                job.events.send(p.Error(job.id, exc.kind, exc.message))
                return
            job.events.send(p.Counted(job.id, result))

        return self._run("count", on_event, work, "hearth-remote-count", job_id)

    def _count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
               timeout: float | None) -> CountResult:
        history = list(messages) + ([ChatMessage("user", draft)] if draft else [])
        n_ctx = self.info.n_ctx if self.info else 0
        count = self._counter(timeout)
        if n_ctx:
            budget = fit_messages(history, count, n_ctx, overflow, max_tokens)
        else:
            tokens = count(history)
            budget = Budget(tuple(history), tokens, tokens)
        return CountResult(prompt_tokens=budget.prompt_tokens, n_ctx=n_ctx, untrimmed_tokens=budget.untrimmed_tokens,
                           dropped_messages=budget.dropped_messages, truncated=budget.truncated, fits=budget.fits,
                           chat_template="server", estimated=self._can_tokenize is not True)

    def _exact_count(self, messages: Sequence[ChatMessage], timeout: float | None) -> int | None:
        if self._can_tokenize is False or self._closed or any(m.images for m in messages):
            return None  # (a server's /tokenize cannot count an image's tokens)
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

    # ---------------------------------------------------------- blocking calls over jobs

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = COUNT_TIMEOUT) -> p.Rendered:
        raise EngineError(ErrorKind.BAD_REQUEST, "a remote model's prompt is rendered by its server")

    def tokenize(self, text: str = "", messages: Sequence[ChatMessage] = (), thinking: str = "default") -> p.Tokenized:
        """llama-server's own tokens of `text`, or of the prompt it makes of `messages` (remote_tokens)."""
        from app.engine.remote_tokens import server_tokens

        try:
            return server_tokens(lambda *a, **k: self._ask_json(*a, timeout=COUNT_TIMEOUT, **k), self.base_url,
                                 text, messages)
        except httpx.HTTPError as exc:
            raise describe_transport(exc, self.base_url) from None

    # ---------------------------------------------------------- lifetime

    def cancel(self, job_id: int = 0) -> None:
        """Stop one reply by its job id (0: every reply), at any moment: it ends at once, marked cancelled,
        with the reply so far, and its connection is shut down so the server stops generating."""
        for job in self._under_way(job_id):
            if job.kind == "chat":
                self._stop(job, self._stopped_event(job))

    def _stopped_event(self, job: RemoteJob) -> p.Event:
        if job.kind != "chat":
            return p.Error(job.id, ErrorKind.CRASHED, self._closed_message())
        if job.stopped is not None:
            return job.stopped()
        return p.Done(job.id, p.Stats(stop_reason=p.StopReason.CANCELLED))  # stopped before it began

    def start_unload(self, on_event: EventSink, job_id: int = 0) -> int:
        job_id = job_id or jobs.new_job_id()
        self.info = None
        on_event(p.Unloaded(job_id))
        return job_id

    def unload(self) -> None:
        self.info = None

    def close(self) -> None:
        """End every job at once (a reply as cancelled, with its text so far), shut every connection down
        and free them."""
        self._closed = True
        self._closing.set()
        for job in self._under_way():
            self._stop(job, self._stopped_event(job))
        self._connections.shut_all()
        self.info = None
        self._http.close()
        self._replies.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
