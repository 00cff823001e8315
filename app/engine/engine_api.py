"""The one interface every engine offers (no Qt): the local engine process (EngineClient), a remote
OpenAI-compatible server (RemoteEngine) and the router that picks between them (EngineRouter).
mypy checks that each implements it (see the assignments at the end of router.py).

Two ways to use an engine:
- jobs: `start_load`, `start_chat`, `start_count`, `start_unload` return a job id at once (the
  caller's `job_id`, from jobs.new_job_id(), or a new one); the job's events, all carrying that id,
  go to `on_event` on a thread of the engine's own (see jobs.py); `cancel(job_id)` stops one reply.
  The GUI's EngineService works this way.
- blocking calls, thin waits on those jobs: `load` -> ModelInfo, `chat` -> iterator of events,
  `count` -> CountResult, `render_prompt`, `unload`. The CLI and the API server work this way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from app.engine import jobs
from app.engine import protocol as p
from app.engine.jobs import EventSink, ReplyEvent
from app.engine.protocol import ChatMessage, LoadOptions, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFInfo

COUNT_TIMEOUT = 30.0  # seconds a count or a prompt render may take before it fails


class Engine(Protocol):
    @property
    def info(self) -> ModelInfo | None:
        """The model in use, or None."""

    # ---------------------------------------------------------- jobs

    def start_load(self, options: LoadOptions, on_event: EventSink, gguf: GGUFInfo | None = None,
                   job_id: int = 0) -> int:
        """Load a model: Progress events, then Loaded or Error. `gguf`: its header, if the caller read it."""

    def start_chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
                   thinking: str, on_event: EventSink, job_id: int = 0, tools: str = "") -> int:
        """Write a reply: Reading and Token events, then one Done or Error. Replies take turns.

        `tools`: the offered tools as a JSON array (OpenAI's shape), described to the model by its template."""

    def start_count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
                    thinking: str, on_event: EventSink, timeout: float | None = COUNT_TIMEOUT,
                    job_id: int = 0, tools: str = "") -> int:
        """Count the prompt tokens (after the overflow policy): Counted or Error. Never waits for a reply.

        `tools`: as start_chat's; their schemas are counted as the reply's prompt will hold them."""

    def start_unload(self, on_event: EventSink, job_id: int = 0) -> int:
        """Free the model (after the job under way): Unloaded or Error."""

    def cancel(self, job_id: int = 0) -> None:
        """Stop one reply by its job id (a queued one never starts), or with 0 every reply (quitting)."""

    def close(self) -> None:
        """Stop everything; every job under way ends at once with an event saying so."""

    # ---------------------------------------------------------- blocking calls over jobs

    def load(self, options: LoadOptions, on_progress: Callable[[float], None] | None = None,
             gguf: GGUFInfo | None = None) -> ModelInfo: ...

    def chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams | None = None,
             overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, thinking: str = "default",
             stop: threading.Event | None = None, tools: str = "") -> Iterator[ReplyEvent]: ...

    def count(self, messages: Sequence[ChatMessage], draft: str = "",
              overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, max_tokens: int = 0,
              timeout: float | None = COUNT_TIMEOUT, thinking: str = "default") -> p.CountResult: ...

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = COUNT_TIMEOUT) -> p.Rendered: ...

    def unload(self) -> None: ...


class _JobStarter(Protocol):
    """What BlockingCalls needs of the engine it is mixed into: the jobs (see Engine)."""

    def start_load(self, options: LoadOptions, on_event: EventSink, gguf: GGUFInfo | None = None,
                   job_id: int = 0) -> int: ...

    def start_chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
                   thinking: str, on_event: EventSink, job_id: int = 0, tools: str = "") -> int: ...

    def start_count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
                    thinking: str, on_event: EventSink, timeout: float | None = COUNT_TIMEOUT,
                    job_id: int = 0, tools: str = "") -> int: ...

    def cancel(self, job_id: int = 0) -> None: ...


class BlockingCalls:
    """`load`, `chat` and `count` as thin waits on an engine's own jobs, for every engine alike
    (the local client, a remote server, the router)."""

    def load(self: _JobStarter, options: LoadOptions, on_progress: Callable[[float], None] | None = None,
             gguf: GGUFInfo | None = None) -> ModelInfo:
        return jobs.wait_load(lambda sink: self.start_load(options, sink, gguf), on_progress)

    def chat(self: _JobStarter, messages: Sequence[ChatMessage], sampling: SamplingParams | None = None,
             overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, thinking: str = "default",
             stop: threading.Event | None = None, tools: str = "") -> Iterator[ReplyEvent]:
        """Stream a reply: Token events, then one Done or Error. Setting `stop`, or leaving the loop, stops
        this reply only (also while it waits for another caller's to end)."""
        chosen = sampling or SamplingParams()
        return jobs.stream(lambda sink: self.start_chat(messages, chosen, overflow, thinking, sink, tools=tools),
                           self.cancel, stop)

    def count(self: _JobStarter, messages: Sequence[ChatMessage], draft: str = "",
              overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, max_tokens: int = 0,
              timeout: float | None = COUNT_TIMEOUT, thinking: str = "default") -> p.CountResult:
        """Exact prompt tokens of the conversation plus an unsent draft, after the overflow policy."""
        return jobs.wait_for(lambda sink: self.start_count(messages, draft, overflow, max_tokens, thinking, sink,
                                                           timeout), p.Counted).result
