"""One client interface over the local engine and remote OpenAI-compatible servers.

A model is named by its path: a GGUF file for the local engine, or
`remote:<base URL>#<model id>` for a model on a server (`remote_path`). Loading one
makes its engine the active one; chat, count and cancel go to the active engine.
Choosing a remote model frees the local one's memory. Thread-safety is that of the
engines behind it (the GUI drives loads and replies from one thread, counts from another).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from app.engine import protocol as p
from app.engine.client import EngineClient
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, ModelInfo, OverflowPolicy
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFInfo

REMOTE_PREFIX = "remote:"


def remote_path(base_url: str, model: str) -> str:
    """The path that names `model` on the server at `base_url`."""
    return f"{REMOTE_PREFIX}{base_url}#{model}"


def parse_remote_path(path: str) -> tuple[str, str] | None:
    """(base URL, model id) for a remote path, None for a local file."""
    if not path.startswith(REMOTE_PREFIX) or "#" not in path:
        return None
    base_url, _, model = path[len(REMOTE_PREFIX):].partition("#")
    return (base_url, model) if base_url and model else None


class EngineRouter:
    def __init__(self, local: EngineClient, api_key_for: Callable[[str], str | None] = lambda _url: None,
                 make_remote: Callable[..., object] | None = None) -> None:
        self.local = local
        self._api_key_for = api_key_for
        self._make_remote = make_remote
        self._remote = None  # the RemoteEngine in use, if any
        self._active = local

    @property
    def info(self) -> ModelInfo | None:
        return self._active.info

    @property
    def is_remote(self) -> bool:
        return self._active is not self.local

    def start(self) -> None:
        self.local.start()

    def load(self, options: LoadOptions, on_progress: Callable[[float], None] | None = None,
             gguf: GGUFInfo | None = None) -> ModelInfo:
        remote = parse_remote_path(options.path)
        if remote is None:
            self._drop_remote()
            self._active = self.local
            return self.local.load(options, on_progress, gguf)
        base_url, model = remote
        engine = self._remote_for(base_url)
        info = engine.load(replace(options, path=model), on_progress)
        if self.local.info is not None:
            self.local.unload()  # the laptop's memory goes back to the user while a server answers
        self._active = engine
        engine.info = replace(info, path=options.path)  # chats remember the server and the model
        return engine.info

    def _remote_for(self, base_url: str):
        if self._remote is not None and self._remote.base_url == base_url:
            return self._remote
        self._drop_remote()
        make = self._make_remote
        if make is None:
            from app.engine.remote import RemoteEngine as make
        self._remote = make(base_url, self._api_key_for(base_url))
        return self._remote

    def _drop_remote(self) -> None:
        if self._remote is not None:
            remote, self._remote = self._remote, None
            if self._active is remote:
                self._active = self.local
            remote.close()

    def chat(self, messages: Sequence[ChatMessage], sampling: SamplingParams | None = None,
             overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE,
             thinking: str = "default", stop: threading.Event | None = None) -> Iterator[p.Token | p.Done | p.Error]:
        """A reply from the active engine; setting `stop` stops this reply only."""
        if self.is_remote:
            return self._active.chat(messages, sampling, overflow, stop=stop)  # the server applies its own template
        return self.local.chat(messages, sampling, overflow, thinking, stop=stop)

    def count(self, messages: Sequence[ChatMessage], draft: str = "",
              overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, max_tokens: int = 0,
              timeout: float | None = 30.0, thinking: str = "default") -> p.CountResult:
        if self.is_remote:
            return self._active.count(messages, draft, overflow, max_tokens, timeout)
        return self.local.count(messages, draft, overflow, max_tokens, timeout, thinking)

    def render_prompt(self, messages: Sequence[ChatMessage], thinking: str = "default",
                      timeout: float | None = 30.0) -> p.Rendered:
        if self.is_remote:
            raise EngineError(ErrorKind.BAD_REQUEST, "a remote model's prompt is rendered by its server")
        return self.local.render_prompt(messages, thinking, timeout)

    def unload(self) -> None:
        """Free the model in use: a server's connection is closed, the local engine lets go of its model."""
        self._drop_remote()
        self.local.unload()

    def cancel(self) -> None:
        """Stop every reply of the active engine (quitting); one reply is stopped by its `stop` event."""
        self._active.cancel()

    def close_remote(self) -> None:
        """Close the connection to a server (quitting); the local engine is closed by its owner."""
        self._drop_remote()
