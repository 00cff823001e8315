"""A remote reply's events from what its job thread reads (no Qt): Token events, then exactly
one Done or Error, whatever the server sent — a malformed chunk, a cut connection or a bug
ends the reply with an Error sentence that keeps the partial text, never with an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx

from app.engine import protocol as p
from app.engine.context import Budget
from app.engine.protocol import EngineError, ErrorKind, Stats, StopReason
from app.engine.remote_cancel import RequestCancelled
from app.engine.remote_http import describe_transport
from app.engine.remote_payload import read_chunk
from app.engine.remote_tools import StreamedCalls
from app.engine.sampling import SamplingParams

MAX_REPLY_CHARS = 32 << 20  # a server that ignores max_tokens is stopped here (text and thinking together)


class ReplyReader:
    def __init__(self, base_url: str, n_ctx: int, sampling: SamplingParams) -> None:
        self.base_url = base_url
        self.n_ctx = n_ctx
        self.sampling = sampling
        self.pieces: list[str] = []
        self.thought: list[str] = []  # reasoning_content, kept apart like a local model's thinking
        self.usage: dict[str, int] = {}
        self.finish: str | None = None
        self.budget: Budget | None = None
        self.n_tokens = 0
        self.size = 0  # characters received
        self.t0 = time.perf_counter()
        self.t_first = 0.0
        self.calls = StreamedCalls()  # the tool calls the server parsed (delta.tool_calls)
        self.llama_cpp = False  # the server sent llama.cpp's `timings`: its count includes the end token

    def events(self, request_id: int, payloads: Iterator[object],
               cancelled: Callable[[], bool]) -> Iterator[p.Token | p.Done | p.Error]:
        """The reply's events from `payloads` (the Budget, then each SSE payload); what `payloads`
        raises (a refusal, a cut connection) ends the reply with an Error, unless it was stopped."""
        try:
            for payload in payloads:
                if cancelled():
                    break
                if isinstance(payload, Budget):
                    self.budget = payload
                    continue
                if not isinstance(payload, dict):
                    continue
                chunk = read_chunk(payload, self.base_url)
                if chunk.error is not None:
                    yield p.Error(request_id, ErrorKind.INTERNAL, f"{self.base_url}: {chunk.error}", self.text)
                    return
                self.usage.update(chunk.usage)
                self.llama_cpp = self.llama_cpp or isinstance(payload.get("timings"), dict)
                self.calls.take(payload)
                for content, reasoning in chunk.pieces:
                    self.size += len(content) + len(reasoning)
                    if self.size > MAX_REPLY_CHARS:
                        yield p.Error(request_id, ErrorKind.BAD_REQUEST, f"{self.base_url} sent a reply longer than "
                                      f"{MAX_REPLY_CHARS:,} characters; it was stopped (the partial reply is kept)",
                                      self.text)
                        return
                    if reasoning or content:
                        self.t_first = self.t_first or time.perf_counter()
                        self.n_tokens += 1
                        self.pieces.append(content)
                        self.thought.append(reasoning)
                        yield p.Token(request_id, content, self.n_tokens, reasoning)
                self.finish = chunk.finish or self.finish
        except RequestCancelled:
            pass
        except Exception as exc:  # noqa: BLE001 (a stopped reply's shut connection surfaces here as well)
            if not cancelled():
                yield self._failure(request_id, exc)
                return
        if cancelled():
            yield self.done(request_id, StopReason.CANCELLED)
        elif self.finish is None:
            yield p.Error(request_id, ErrorKind.CONNECTION,
                          f"the connection to {self.base_url} was cut mid-reply (the partial reply is kept)", self.text)
        else:
            yield self.done(request_id, StopReason.LENGTH if self.finish == "length" else StopReason.EOS)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def _failure(self, request_id: int, exc: Exception) -> p.Error:
        if isinstance(exc, EngineError):
            error = exc
        elif isinstance(exc, httpx.HTTPError):
            error = describe_transport(exc, self.base_url)
            if self.pieces:
                error = EngineError(error.kind, error.message + " (the partial reply is kept)")
        else:  # a bug here must still end the reply with words, not a traceback
            error = EngineError(ErrorKind.INTERNAL, f"reading the reply from {self.base_url} failed: "
                                f"{type(exc).__name__}: {exc}")
        return p.Error(request_id, error.kind, error.message, self.text)

    def done(self, request_id: int, reason: StopReason) -> p.Done:
        t_end = time.perf_counter()
        completion = self.completion_tokens(reason)
        decode_s = t_end - self.t_first if self.t_first else 0.0
        budget = self.budget
        stats = Stats(
            prompt_tokens=self.usage.get("prompt_tokens", budget.prompt_tokens if budget else 0),
            cached_tokens=self.usage.get("cached_tokens", 0),
            completion_tokens=completion,
            ttft_s=(self.t_first - self.t0) if self.t_first else t_end - self.t0,
            decode_tok_s=(completion - 1) / decode_s if decode_s > 0 and completion > 1 else 0.0,
            stop_reason=reason,
            n_ctx=self.n_ctx,
            dropped_messages=budget.dropped_messages if budget else 0,
            truncated=budget.truncated if budget else False,
        )
        return p.Done(request_id, stats, self.text, self.sampling, "".join(self.thought),
                      tool_calls=self.calls.result())

    def completion_tokens(self, reason: StopReason) -> int:
        """The reply's tokens counted as the built-in engine counts them: without the end-of-generation token.

        llama-server counts every token it sampled, the end token too (n_decoded), and reports a stop on
        that token and on a stop string alike as "stop"; the built-in engine counts the tokens of the reply,
        a stop string's included. So when the reply ended by itself (no stop strings asked for) on a
        llama.cpp server (known by its `timings`), its count is one more than the reply's."""
        completion = self.usage.get("completion_tokens", self.n_tokens)
        if "completion_tokens" in self.usage and self.llama_cpp and reason == StopReason.EOS \
                and not self.sampling.stop and completion > 0:
            return completion - 1
        return completion
