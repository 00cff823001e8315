"""What a model load may be set to: every bound, default and choice of the load settings, in one place.

The load-settings widget (chat page and Compare columns), Settings, the CLI's flags and their
checks, and the engine's LoadOptions all take their numbers from here, so they cannot disagree.
It imports nothing from Hearth, so the engine (and its worker process) may use it too.

The context limit. The real bound on a context is the model's trained context: the widget caps
the size at it when the library read it from the header, and the engine caps a load at it (with
a note) in any case. CONTEXT_MAX only stops numbers nobody means (a slip of the keyboard) where
the trained context is not known: a header without one, a remote model, a Compare column whose
model is not in the library. It is 16 Mi tokens, the bound above which a server's reported
context is not believed either (engine/remote_payload.py): above the longest trained context of
any GGUF model (10 Mi, Llama 4 Scout), so no model's own context is ever cut by it. (It used to
be 131,072 in the chat's settings, which hid 1M-context models' full context, and 1,048,576 in
Compare's.)
"""

from __future__ import annotations

# ---------------------------------------------------------------- context size (tokens)

CONTEXT_DEFAULT = 4096
CONTEXT_MIN = 256  # the settings offer no less: a system prompt and a short chat fill that much
CONTEXT_MAX = 1 << 24  # 16,777,216: see the module's docstring
CONTEXT_STEP = 1024
CONTEXT_OWN = 0  # the CLI's --ctx 0 and LoadOptions(n_ctx=0): the model's trained context

# ---------------------------------------------------------------- GPU layers

ALL_LAYERS = -1  # every layer on the GPU
AUTO_LAYERS = -2  # as many as fit the GPU's free memory (app/hardware.py estimates it)
GPU_LAYERS_DEFAULT = AUTO_LAYERS  # the app's and the CLI's; a bare LoadOptions runs on the CPU (0)

# ---------------------------------------------------------------- prompt batch (tokens per step)

BATCH_DEFAULT = 512
BATCH_MIN = 32  # the settings offer no less (the CLI takes any positive size, as it always has)
# The engine never uses more than the context size; larger numbers only cost compute-buffer memory.
# 64 Ki lets a long-context GPU load read its prompt in one step; the CLI always took any size.
BATCH_MAX = 1 << 16
BATCH_STEP = 128

# ---------------------------------------------------------------- CPU threads

THREADS_AUTO = 0  # the engine picks (one per physical core, lowered while other programs are busy)
THREADS_DEFAULT = THREADS_AUTO
THREADS_MAX = 1024  # more hardware threads than the largest machines have (2 x 192 cores x 2)

# ---------------------------------------------------------------- KV cache

KV_CACHE_DEFAULT = "f16"
# each type, with what it means for the user (the engine maps the names to llama.cpp's types)
KV_CACHE_TYPES = {
    "f16": "f16 (best quality)",
    "q8_0": "q8_0 (half the memory)",
    "q4_0": "q4_0 (quarter of the memory)",
}

# ---------------------------------------------------------------- flash attention

# Settings, model defaults and the CLI keep flash attention as text; the engine takes None, True or False.
FLASH_TEXT: dict[bool | None, str] = {None: "auto", True: "on", False: "off"}
FLASH_VALUE: dict[str, bool | None] = {text: value for value, text in FLASH_TEXT.items()}
FLASH_DEFAULT = "auto"
FLASH_CHOICES: tuple[tuple[str, bool | None], ...] = (("Auto", None), ("On", True), ("Off", False))  # the widget's

MMAP_DEFAULT = True

# ---------------------------------------------------------------- prompts kept in RAM (engine/prompt_store.py)

PROMPT_CACHE_AUTO = -1  # an eighth of the memory free at load, at most 2 GiB; 0: none
PROMPT_CACHE_MAX_MIB = 1 << 20  # 1 TiB: only stops numbers nobody means


def flash_value(stored: object) -> bool | None:
    """The engine's flash-attention value for a stored one ("auto", "on", "off", any case; a bool or None as
    is). Anything else reads as automatic."""
    if stored is None or isinstance(stored, bool):
        return stored
    return FLASH_VALUE.get(str(stored).strip().lower())


def check_context(n_ctx: int) -> str:
    """Why `n_ctx` cannot be asked for (as a plain sentence), or "" when it can (0: the model's own)."""
    if not CONTEXT_OWN <= n_ctx <= CONTEXT_MAX:
        return f"must be between {CONTEXT_OWN} (the model's own) and {CONTEXT_MAX:,}"
    return ""


def check_batch(n_batch: int) -> str:
    if not 1 <= n_batch <= BATCH_MAX:
        return f"must be between 1 and {BATCH_MAX:,}"
    return ""


def check_prompt_cache(mib: int) -> str:
    if not PROMPT_CACHE_AUTO <= mib <= PROMPT_CACHE_MAX_MIB:
        return f"must be between {PROMPT_CACHE_AUTO} (automatic), 0 (none) and {PROMPT_CACHE_MAX_MIB:,} MiB"
    return ""


def check_threads(n_threads: int) -> str:
    if not THREADS_AUTO <= n_threads <= THREADS_MAX:
        return f"must be between {THREADS_AUTO} (automatic) and {THREADS_MAX}"
    return ""


def context_maximum(trained: int) -> int:
    """The largest context the settings offer for a model trained with `trained` tokens (0: unknown)."""
    return max(min(trained, CONTEXT_MAX), CONTEXT_MIN) if trained > 0 else CONTEXT_MAX
