"""llama.cpp's backend sampling: the sampler chain runs inside the model's compute graph.

With a chain attached to sequence 0, every `llama_decode` that outputs logits also picks
the next token on the device that computed them (CPU threads or GPU), and
`llama_sampler_sample` just returns it: the whole vocabulary is neither copied out of the
graph nor scanned in a scalar loop. On CPU threads this measured 1-2% slower than a numpy
argmax or llama.cpp's CPU chain (ggml's argmax runs on one of the threads), so Hearth uses
it only when HEARTH_BACKEND_SAMPLING=1 (sampler_chain); it is for GPUs, where it saves
copying the logits to the host after every token (llama-server's --backend-sampling).

llama-cpp-python 0.3.36 ships the C functions but no Python binding, so they are bound
here. Only chains whose every sampler can run in the graph are attached: llama.cpp runs a
chain in the graph only up to its first sampler that cannot (the repetition penalties),
so a chain that starts with penalties would gain nothing and cost a graph rebuild.
"""

from __future__ import annotations

import ctypes

from app.engine.llama_backend import c_function

_set_sampler = c_function("llama_set_sampler", ctypes.c_bool, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p)


def available() -> bool:
    return _set_sampler is not None


def attach(ctx: object, chain: object) -> bool:
    """Run `chain` inside the graph for sequence 0 from the next decode on; False if it cannot.

    The chain must stay alive until `detach`. A chain can be attached once only.
    """
    if _set_sampler is None or not chain:
        return False
    return bool(_set_sampler(ctx, 0, chain))


def detach(ctx: object) -> None:
    """Sample on the CPU again (call before freeing the attached chain)."""
    if _set_sampler is not None and ctx:
        _set_sampler(ctx, 0, None)

