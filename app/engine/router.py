"""One engine (engine_api.Engine) over the local engine and remote OpenAI-compatible servers.

A model is named by its path: a GGUF file for the local engine, or
`remote:<base URL>#<model id>` for a model on a server (`remote_path`). Loading one
makes its engine the active one; chat, count and render go to the active engine, cancel to both
(job ids are unique across engines, jobs.py). Choosing a remote model frees the local one's memory.
Thread-safety is that of the engines behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from app.engine import batch_params, jobs
from app.engine import protocol as p
from app.engine.client import EngineClient
from app.engine.engine_api import COUNT_TIMEOUT, BlockingCalls, Engine
from app.engine.jobs import EventSink
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFInfo

if TYPE_CHECKING:
    from app.engine.managed_runtime import ServerSlot
    from app.engine.remote import RemoteEngine  # imported when a server is first used (httpx is slow to import)
    from app.engine.server_runtime import RuntimeInfo

REMOTE_PREFIX = "remote:"


def local_name(path: str) -> str:
    """A local model's name as the built-in engine gives it (a managed llama-server would say its path)."""
    from app.library.gguf_info import GGUFFileError, read_gguf_info

    try:
        return read_gguf_info(path).display_name
    except (GGUFFileError, OSError):
        return ""


def remote_path(base_url: str, model: str) -> str:
    """The path that names `model` on the server at `base_url`."""
    return f"{REMOTE_PREFIX}{base_url}#{model}"


def parse_remote_path(path: str) -> tuple[str, str] | None:
    """(base URL, model id) for a remote path, None for a local file."""
    if not path.startswith(REMOTE_PREFIX) or "#" not in path:
        return None
    base_url, _, model = path[len(REMOTE_PREFIX):].partition("#")
    return (base_url, model) if base_url and model else None


class EngineRouter(BlockingCalls):
    def __init__(self, local: EngineClient, api_key_for: Callable[[str], str | None] = lambda _url: None,
                 make_remote: Callable[[str, str | None], RemoteEngine] | None = None,
                 runtime_for: Callable[[str], RuntimeInfo | None] | None = None) -> None:
        self.local = local
        self._managed: ServerSlot | None = None  # a llama-server started for a local model (managed_runtime.py)
        self._runtime_for = runtime_for  # which local models run on a managed llama-server
        self._api_key_for = api_key_for
        self._make_remote = make_remote
        self._remote: RemoteEngine | None = None  # the server in use, if any
        self._active: Engine = local
        # callers that share the local engine: 2 while the app's API server runs beside its chats (shared_options)
        self.sequences = 1

    @property
    def info(self) -> ModelInfo | None:
        return self._active.info

    @property
    def is_remote(self) -> bool:
        return self._active is not self.local

    def start(self) -> None:
        self.local.start()

    # ---------------------------------------------------------- jobs

    def start_load(self, options: LoadOptions, on_event: EventSink, gguf: GGUFInfo | None = None,
                   job_id: int = 0) -> int:
        remote = parse_remote_path(options.path)
        runtime = self._runtime_for(options.path) if remote is None and self._runtime_for is not None else None
        if runtime is not None:
            return self._start_managed(runtime, options, on_event, job_id or jobs.new_job_id())
        if remote is None:
            self._drop_remote()
            self._active = self.local
            return self.local.start_load(batch_params.shared_options(options, self.sequences), on_event, gguf, job_id)
        return self._load_remote(remote[0], remote[1], options, on_event, job_id)

    def _load_remote(self, base_url: str, model: str, options: LoadOptions, on_event: EventSink, job_id: int,
                     notice: str = "", name: str = "") -> int:
        engine = self._remote_for(base_url)

        def on_remote_event(event: p.Event) -> None:
            if isinstance(event, p.Loaded):
                if self.local.info is not None:  # the laptop's memory goes back to the user while a server answers
                    self.local.unload()  # on the remote job's thread: the model is freed before Loaded is told
                self._active = engine
                engine.info = replace(event.info, path=options.path,  # chats remember the server and the model
                                      name=name or event.info.name,  # a local model: its name, not its path
                                      notice="; ".join(n for n in (notice, event.info.notice) if n))
                event = p.Loaded(event.id, engine.info)
            on_event(event)

        return engine.start_load(replace(options, path=model), on_remote_event, job_id=job_id)

    def _start_managed(self, runtime: RuntimeInfo, options: LoadOptions, on_event: EventSink, job_id: int) -> int:
        """Load a local model on a llama-server started for it (on a thread of its own: it takes seconds)."""

        from app.engine.managed_runtime import ServerSlot

        slot = self._managed = self._managed or ServerSlot()

        def start() -> None:
            try:
                server = slot.start(runtime, options)
            except EngineError as exc:
                on_event(p.Error(job_id, exc.kind, exc.message))
                return
            self._load_remote(server.url, "", options, on_event, job_id, f"Engine: {runtime.label}",
                              local_name(options.path))

        threading.Thread(target=start, name="hearth-llama-server-start", daemon=True).start()
        return job_id

    def _remote_for(self, base_url: str) -> RemoteEngine:
        if self._remote is not None and self._remote.base_url == base_url:
            return self._remote
        self._drop_remote()
        if self._make_remote is None:
            from app.engine.remote import RemoteEngine

            self._make_remote = RemoteEngine
        managed_key = self._managed.api_key(base_url) if self._managed is not None else None
        self._remote = self._make_remote(base_url, managed_key or self._api_key_for(base_url))
        return self._remote

    def _drop_remote(self) -> None:
        if self._remote is not None:
            remote, self._remote = self._remote, None
            if self._active is remote:
                self._active = self.local
            remote.close()
            if self._managed is not None:
                self._managed.stop(remote.base_url)  # a server started for a local model goes with it

    def start_chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams, overflow: OverflowPolicy,
                   thinking: str, on_event: EventSink, job_id: int = 0, tools: str = "") -> int:
        """A reply from the active engine (a server applies its own template and thinking)."""
        offered = {"tools": tools} if tools else {}  # engines without tool support are asked as before
        return self._active.start_chat(messages, sampling, overflow, thinking, on_event, job_id, **offered)

    def start_count(self, messages: Sequence[ChatMessage], draft: str, overflow: OverflowPolicy, max_tokens: int,
                    thinking: str, on_event: EventSink, timeout: float | None = COUNT_TIMEOUT,
                    job_id: int = 0, tools: str = "") -> int:
        offered = {"tools": tools} if tools else {}  # as start_chat's
        return self._active.start_count(messages, draft, overflow, max_tokens, thinking, on_event, timeout, job_id,
                                        **offered)

    def start_unload(self, on_event: EventSink, job_id: int = 0) -> int:
        """Free the model in use: a server's connection is closed, the local engine lets go of its model."""
        self._drop_remote()
        return self.local.start_unload(on_event, job_id)

    def cancel(self, job_id: int = 0) -> None:
        """Stop one reply by its job id, or with 0 every reply (quitting)."""
        self.local.cancel(job_id)
        if self._remote is not None:
            self._remote.cancel(job_id)

    def close_remote(self) -> None:
        """Close the connection to a server (quitting); the local engine is closed by its owner."""
        self._drop_remote()

    def close(self) -> None:
        self._drop_remote()
        self.local.close()

    # ---------------------------------------------------------- blocking calls over jobs

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = COUNT_TIMEOUT) -> p.Rendered:
        if self.is_remote:
            raise EngineError(ErrorKind.BAD_REQUEST, "a remote model's prompt is rendered by its server")
        return self.local.render_prompt(messages, thinking, timeout)

    def tokenize(self, text: str = "", messages: Sequence[ChatMessage] = (), thinking: str = "default") -> p.Tokenized:
        if self._remote is not None and self._managed is not None and self._managed.api_key(self._remote.base_url):
            return self._remote.tokenize(text, messages, thinking)  # a llama-server Hearth started: it can tell
        if self.is_remote:
            raise EngineError(ErrorKind.BAD_REQUEST, "a remote model's tokens are known only to its server")
        return self.local.tokenize(text, messages, thinking)

    def next_tokens(self, messages: Sequence[ChatMessage], reply_tokens: Sequence[int] = (),
                    thinking: str = "default") -> p.NextTokensFound:
        if self.is_remote:
            raise EngineError(ErrorKind.BAD_REQUEST, "a remote model's next tokens are known only to its server")
        return self.local.next_tokens(messages, reply_tokens, thinking)

    def unload(self) -> None:
        """Free the model in use: a server's connection is closed, the local engine lets go of its model."""
        self._drop_remote()
        self.local.unload()


if TYPE_CHECKING:  # what mypy checks: each engine is an Engine
    _ENGINES: tuple[type[Engine], ...] = (EngineClient, RemoteEngine, EngineRouter)
