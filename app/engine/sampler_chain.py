"""Choosing the next token: llama.cpp's sampler chain, run inside the compute graph when it can be.

llama_sampler_sample copies the whole vocabulary into a candidate array and scans it in a
scalar loop (130 µs per token on a 49k vocabulary), so a greedy reply without penalties
takes a numpy argmax of the logits instead (14 µs, the same token).

With HEARTH_BACKEND_SAMPLING=1 a chain without repetition penalties is attached to the
context instead (backend_sampling), so the token is picked inside the compute graph. On
CPU threads that measured 1-2% slower than the paths above (docs/BENCHMARKS.md), so it is
off by default; it is meant for GPUs, where it saves copying the logits to the host.

A grammar (SamplingParams.grammar, GBNF) goes first in the chain, so every later sampler sees only
the tokens it allows; a reply under a grammar never takes the argmax or in-graph shortcuts, which
would pick tokens the grammar has not seen (its state advances as llama_sampler_sample accepts each).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

import llama_cpp
import numpy as np

from app.engine import backend_sampling
from app.engine.llama_backend import c_function
from app.engine.protocol import EngineError, ErrorKind
from app.engine.sampling import SamplingParams

IN_GRAPH = os.environ.get("HEARTH_BACKEND_SAMPLING", "0") == "1"


def has_penalties(sampling: SamplingParams) -> bool:
    return sampling.repeat_penalty != 1.0 or bool(sampling.presence_penalty) or bool(sampling.frequency_penalty)


def plain_greedy(sampling: SamplingParams) -> bool:
    """Greedy without penalties or a grammar: the argmax of the logits picks the same token."""
    return sampling.greedy and not has_penalties(sampling) and not sampling.grammar


BAD_GRAMMAR = ("llama.cpp cannot parse the sampling grammar (GBNF): check its syntax, that every rule "
               "it uses is defined, that it has a 'root' rule and no left recursion")


def grammar_sampler(vocab: Any, grammar: str) -> Any:
    """llama.cpp's grammar sampler for `grammar` (GBNF, starting at `root`); EngineError when it cannot
    parse it (llama.cpp logs why and returns no sampler)."""
    try:
        data = grammar.encode("utf-8")
    except UnicodeEncodeError:
        raise EngineError(ErrorKind.BAD_REQUEST, BAD_GRAMMAR) from None
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, data, b"root")
    if not sampler:
        raise EngineError(ErrorKind.BAD_REQUEST, BAD_GRAMMAR)
    return sampler


def check_grammar(vocab: Any, grammar: str) -> None:
    """Raise EngineError now when `grammar` cannot be used (a batch checks before a request takes a slot)."""
    if grammar:
        llama_cpp.llama_sampler_free(grammar_sampler(vocab, grammar))


def build_sampler(sampling: SamplingParams, n_vocab: int, ctx: Any = None) -> Any:
    """The llama.cpp sampler chain for `sampling` (free it with llama_sampler_free). A grammar needs
    the context `ctx` (its model's vocabulary); EngineError when llama.cpp cannot parse it."""
    grammar = None
    if sampling.grammar:
        if ctx is None:
            raise ValueError("a sampling grammar needs the context")
        grammar = grammar_sampler(llama_cpp.llama_model_get_vocab(llama_cpp.llama_get_model(ctx)), sampling.grammar)
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())

    def add(sampler: Any) -> None:
        llama_cpp.llama_sampler_chain_add(chain, sampler)  # the chain owns it from here (freed with it)

    if grammar is not None:
        add(grammar)
    if has_penalties(sampling):
        add(
            llama_cpp.llama_sampler_init_penalties(
                n_vocab,
                sampling.penalty_last_n,
                sampling.repeat_penalty,
                sampling.frequency_penalty,
                sampling.presence_penalty,
            )
        )
    if sampling.greedy:
        add(llama_cpp.llama_sampler_init_greedy())
        return chain
    if sampling.top_k > 0:
        add(llama_cpp.llama_sampler_init_top_k(sampling.top_k))
    if sampling.top_p < 1.0:
        add(llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
    if sampling.min_p > 0.0:
        add(llama_cpp.llama_sampler_init_min_p(sampling.min_p, 1))
    add(llama_cpp.llama_sampler_init_temp(sampling.temperature))
    seed = sampling.seed if sampling.seed >= 0 else int.from_bytes(os.urandom(4), "little")
    add(llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
    return chain


# llama_get_logits_ith returning a plain address: llama_cpp's own binding builds a ctypes
# pointer object on every call, and turning that into an array costs more than the argmax.
_logits_address = c_function("llama_get_logits_ith", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32)


def logits_address(ctx: Any) -> int:
    """Where llama.cpp keeps the last output's logits (0: none on the host)."""
    if _logits_address is None:
        return 0
    return int(_logits_address(ctx, -1) or 0)


def argmax_picker(ctx: Any, n_vocab: int) -> Callable[[], int]:
    """Greedy choice of the next token: the first highest logit, as llama.cpp's greedy sampler picks.

    The logits buffer stays where it is from token to token, so the numpy view over it is
    made again only when its address changes. Made with ctypes' as_array on every token,
    the view cost 60 µs of a 140 µs step between two decodes (SmolLM2, caches cold).
    """
    logits_at = _logits_address
    if logits_at is None:
        raise RuntimeError("this llama.cpp has no llama_get_logits_ith")
    address = 0
    view: np.ndarray[Any, np.dtype[np.float32]] | None = None

    def pick() -> int:
        nonlocal address, view
        at = logits_at(ctx, -1)
        if at != address or view is None:
            if not at:
                raise RuntimeError("llama.cpp returned no logits")
            view = np.frombuffer(memoryview((ctypes.c_float * n_vocab).from_address(at)), dtype=np.float32)
            address = at
        return int(view.argmax())

    return pick


def sampler_picker(sampler: Any, ctx: Any) -> Callable[[], int]:
    sample = llama_cpp.llama_sampler_sample

    def pick() -> int:
        return int(sample(sampler, ctx, -1))

    return pick


class ReplySampler:
    """How one reply picks its tokens. Create it before the prompt is evaluated (an attached
    chain picks the first token in the prompt's graph); close it when the reply ends."""

    def __init__(self, ctx: Any, sampling: SamplingParams, n_vocab: int, in_graph: bool | None = None) -> None:
        self.ctx = ctx
        self.chain: Any = None
        self.in_graph = False
        wanted = (IN_GRAPH if in_graph is None else in_graph) and not sampling.grammar
        penalties = has_penalties(sampling)
        argmax = plain_greedy(sampling)
        if argmax and not (wanted and backend_sampling.available()):
            self.pick = argmax_picker(ctx, n_vocab)  # no llama.cpp chain needed at all
            return
        self.chain = build_sampler(sampling, n_vocab, ctx)
        self.in_graph = wanted and not penalties and backend_sampling.attach(ctx, self.chain)
        if not self.in_graph and argmax:
            self.pick = argmax_picker(ctx, n_vocab)
        else:
            self.pick = sampler_picker(self.chain, ctx)

    def close(self) -> None:
        if self.chain is None:
            return
        if self.in_graph:
            backend_sampling.detach(self.ctx)
        llama_cpp.llama_sampler_free(self.chain)
        self.chain = None


_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])  # llama_token_data


def sample_from(chain: Any, logits: np.ndarray[Any, np.dtype[np.float32]]) -> int:
    """The token `chain` picks from a row of logits kept aside (not llama.cpp's own buffer), and accepts,
    as llama_sampler_sample does with the row a batch left."""
    data = np.empty(logits.shape[0], dtype=_TOKEN_DATA)
    data["id"] = np.arange(logits.shape[0], dtype=np.int32)
    data["logit"] = logits
    data["p"] = 0.0
    candidates = llama_cpp.llama_token_data_array(
        data=data.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)), size=len(data), selected=-1,
        sorted=False)
    llama_cpp.llama_sampler_apply(chain, ctypes.byref(candidates))
    if not 0 <= candidates.selected < candidates.size:
        raise RuntimeError("the sampler chain selected no token")
    token = int(candidates.data[candidates.selected].id)
    llama_cpp.llama_sampler_accept(chain, token)
    return token
