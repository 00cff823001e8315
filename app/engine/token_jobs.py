"""Two small engine jobs that let people see what the model sees (the Tokens views, the sampling chart).

- Tokenize: a text split into the model's tokens, or a chat's exact prompt (special tokens marked).
  Runs on the worker's count thread: it only reads the vocabulary and renders the template, which
  LoadedModel allows from another thread, so the token view keeps up while a reply streams.
- NextTokens: the model's best next tokens after a chat's prompt and the first tokens of a reply.
  Runs on the main thread (it evaluates): the prompt cache is reused as a reply reuses it, so a token
  of the reply just written costs a few tokens of evaluation, not the whole prompt.

They live here rather than in runtime.py (kept under the size limit, and shared with other work);
they use LoadedModel's prompt evaluation as its own `_generate` does.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

import llama_cpp
import numpy as np

from app.engine import protocol as p
from app.engine.context import too_long_message
from app.engine.count_thread import CountSide as Worker  # what these jobs use of the engine's worker
from app.engine.count_thread import answer_with_model
from app.engine.prompt_replay import reuse_or_replay
from app.engine.protocol import EngineError, ErrorKind
from app.engine.sampler_chain import _logits_address

if TYPE_CHECKING:
    from app.engine.runtime import LoadedModel

IMAGE_PIECE = b"[picture]"  # a picture's run of embedding positions, shown as one entry


def piece_of(vocab: object, token: int, buf: ctypes.Array[ctypes.c_char]) -> tuple[bytes, bool]:
    """The bytes a token prints, control tokens included (<|im_start|>), and whether it is one."""
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, True)
    if n < 0:  # longer than the buffer (never for a real vocabulary): ask again with room
        bigger = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, bigger, -n, 0, True)
        return bigger.raw[:n], bool(llama_cpp.llama_vocab_is_control(vocab, token))
    special = bool(llama_cpp.llama_vocab_is_control(vocab, token)) or bool(llama_cpp.llama_vocab_is_eog(vocab, token))
    return buf.raw[:n], special


def answer_tokenize(worker: Worker, request: p.Tokenize) -> None:
    """The count thread's answer to a Tokenize: Tokenized, or an Error in words (the engine goes on)."""
    answer_with_model(worker, request, lambda model: tokenize(model, request))


def answer_next_tokens(worker: Worker, request: p.NextTokens) -> None:
    """The main thread's answer to a NextTokens (its errors become Error events in Worker.handle)."""
    if worker.model is None:
        raise EngineError(ErrorKind.NO_MODEL, "no model is loaded: choose a model first")
    worker.send(next_tokens(worker.model, request))


def tokenize(model: LoadedModel, request: p.Tokenize) -> p.Tokenized:
    """The request's text as plain text (as a message's content is tokenized), or its chat's exact prompt."""
    if request.messages:
        # count_tokens' way from this thread: no shared memo, and the ids the last reply was written with
        ids = model._encode(tuple(request.messages), request.thinking, model._last)[1]
    else:
        ids = model.tokenize(request.text, add_bos=False, special=False)
    buf = ctypes.create_string_buffer(256)
    tokens: list[tuple[int, bytes, bool]] = []
    for token in ids:
        if token < 0:  # a picture's positions (vision.py): one entry for the run
            if not tokens or tokens[-1][0] != -1:
                tokens.append((-1, IMAGE_PIECE, True))
            continue
        piece, special = piece_of(model.vocab, token, buf)
        tokens.append((token, piece, special))
    return p.Tokenized(request.id, tuple(tokens))


def next_tokens(model: LoadedModel, request: p.NextTokens) -> p.NextTokensFound:
    """Evaluate the prompt and the reply's first tokens (cache reused) and read the best next tokens."""
    from app.engine.probs_probe import measure

    _text, prompt = model.encode(request.messages, request.thinking)
    tokens = list(prompt) + list(request.reply_tokens)
    if len(tokens) >= model.n_ctx:
        raise EngineError(ErrorKind.CONTEXT_OVERFLOW, too_long_message(len(tokens), model.n_ctx))
    model._cancel.clear()
    cached, ready = reuse_or_replay(model.memory, model.kv_tokens, tokens, model._replay)
    # as the reply saw them: a prompt in whole (or its kept logits, prompt_replay.py), a reply token alone
    end = len(tokens) - 1 if request.reply_tokens else len(tokens)
    if not ready and not (model._evaluate_prompt(tokens, cached, end)
                          and model._evaluate_prompt(tokens, end, len(tokens))):
        raise EngineError(ErrorKind.INTERNAL, "stopped before the next tokens were found")
    at = _logits_address(model.ctx, -1) if _logits_address is not None else None
    if not at:
        raise EngineError(ErrorKind.INTERNAL, "llama.cpp returned no logits")
    view = np.frombuffer(memoryview((ctypes.c_float * model.n_vocab).from_address(at)), dtype=np.float32)
    found = measure(view, int(view.argmax()), max(1, min(request.n_top, 50)), model._token_facts)
    return p.NextTokensFound(request.id, found.top)
