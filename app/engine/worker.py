"""The engine process: owns the llama.cpp model, answers one request at a time.

A reader thread takes requests off the pipe so that Cancel reaches a running
generation between two tokens and Count is answered even while a reply streams.
"""

from __future__ import annotations

import functools

import queue
import threading
import time
from multiprocessing.connection import Connection

from app.engine import protocol as p
from app.engine.context import fit_messages
from app.engine.protocol import EngineError, ErrorKind

FLUSH_SECONDS = 0.01  # tokens are sent in small batches: one pipe message per 10 ms at most


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.send_lock = threading.Lock()
        self.model_lock = threading.Lock()  # held while the model is created or freed
        self.model = None
        self.requests: queue.Queue = queue.Queue()
        self.current_chat = 0

    def send(self, event: p.Event) -> None:
        with self.send_lock:
            self.conn.send(event)

    # ---------------------------------------------------------- reader thread

    def read_requests(self) -> None:
        while True:
            try:
                request = self.conn.recv()
            except (EOFError, OSError):
                self.requests.put(p.Shutdown())
                return
            if isinstance(request, p.Cancel):
                model = self.model
                if model is not None and request.id in (self.current_chat, 0):
                    model.cancel()
            elif isinstance(request, p.Count):
                self.answer_count(request)
            else:
                self.requests.put(request)
                if isinstance(request, p.Shutdown):
                    return

    def answer_count(self, request: p.Count) -> None:
        with self.model_lock:
            model = self.model
            if model is None:
                self.send(p.Error(request.id, ErrorKind.NO_MODEL, "no model is loaded"))
                return
            try:
                messages = list(request.messages)
                if request.draft:
                    messages.append(p.ChatMessage("user", request.draft))
                count = functools.partial(model.count, thinking=request.thinking)
                budget = fit_messages(messages, count, model.n_ctx, request.overflow, request.max_tokens)
                result = p.CountResult(
                    prompt_tokens=budget.prompt_tokens,
                    n_ctx=model.n_ctx,
                    untrimmed_tokens=budget.untrimmed_tokens,
                    dropped_messages=budget.dropped_messages,
                    truncated=budget.truncated,
                    fits=budget.fits,
                    chat_template=model.template.origin,
                )
                self.send(p.Counted(request.id, result))
            except Exception as exc:
                self.send(p.Error(request.id, ErrorKind.BAD_REQUEST, str(exc)))

    # ---------------------------------------------------------- main thread

    def run(self) -> None:
        threading.Thread(target=self.read_requests, name="engine-reader", daemon=True).start()
        while True:
            request = self.requests.get()
            if isinstance(request, p.Shutdown):
                self.unload()
                return
            try:
                if isinstance(request, p.Load):
                    self.load(request)
                elif isinstance(request, p.Chat):
                    self.chat(request)
                elif isinstance(request, p.RenderPrompt):
                    self.render_prompt(request)
                elif isinstance(request, p.Unload):
                    self.unload()
                    self.send(p.Unloaded(request.id))
            except EngineError as exc:
                self.send(p.Error(request.id, exc.kind, exc.message))
            except MemoryError:
                self.send(p.Error(request.id, ErrorKind.OUT_OF_MEMORY, "the engine ran out of memory"))
            except Exception as exc:  # never let one request take the engine down
                self.send(p.Error(request.id, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}"))

    def render_prompt(self, request: p.RenderPrompt) -> None:
        model = self.model
        if model is None:
            raise EngineError(ErrorKind.NO_MODEL, "no model is loaded: choose a model first")
        try:
            text, tokens = model.encode(request.messages, request.thinking)
        except ValueError as exc:
            raise EngineError(ErrorKind.BAD_REQUEST, str(exc)) from exc
        self.send(p.Rendered(request.id, text, len(tokens), model.template.origin))

    def unload(self) -> None:
        with self.model_lock:
            if self.model is not None:
                self.model.close()
                self.model = None

    def load(self, request: p.Load) -> None:
        from app.engine.offload import load_model

        self.unload()
        last = [-1.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.02 or fraction >= 1.0:
                last[0] = fraction
                self.send(p.Progress(request.id, fraction))

        with self.model_lock:
            self.model = load_model(request.options, progress)
        self.send(p.Loaded(request.id, self.model.info))

    def chat(self, request: p.Chat) -> None:
        model = self.model
        if model is None:
            raise EngineError(ErrorKind.NO_MODEL, "no model is loaded: choose a model first")
        self.current_chat = request.id
        sampling = request.sampling.validated()
        count = functools.partial(model.count, thinking=request.thinking)
        budget = fit_messages(request.messages, count, model.n_ctx, request.overflow, sampling.max_tokens)
        if not budget.fits:
            raise EngineError(
                ErrorKind.CONTEXT_OVERFLOW,
                f"the conversation is {budget.prompt_tokens} tokens but the context holds {model.n_ctx}: "
                "start a new chat, shorten the message, raise the context size, "
                "or let the chat drop older messages (overflow policy)",
            )
        pending: list[str] = []
        state = {"last": time.perf_counter(), "n": 0}

        def on_text(text: str, n_tokens: int) -> None:
            pending.append(text)
            state["n"] = n_tokens
            now = time.perf_counter()
            if now - state["last"] >= FLUSH_SECONDS:
                state["last"] = now
                self.send(p.Token(request.id, "".join(pending), n_tokens))
                pending.clear()

        try:
            result = model.generate(budget.messages, sampling, on_text, thinking=request.thinking)
        finally:
            self.current_chat = 0
        if pending:
            self.send(p.Token(request.id, "".join(pending), state["n"]))
        stats = result.stats
        stats = p.Stats(**{**stats.__dict__, "dropped_messages": budget.dropped_messages, "truncated": budget.truncated})
        self.send(p.Done(request.id, stats, result.text, sampling))


def main(conn: Connection) -> None:
    Worker(conn).run()
