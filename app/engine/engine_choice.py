"""Which engine runs a local model, in words: the built-in llama.cpp or the configured llama-server.

The same rule as managed_runtime.runtime_chooser (which the router follows), said before a load so the
load settings, the picker and the Models page can show it: a model set to "llama-server" runs there, one
set to "built-in" runs on the built-in llama.cpp, and one set to neither ("automatic") runs on the
llama-server only when the built-in llama.cpp does not know its architecture.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.server_runtime import RuntimeInfo
from app.library.architectures import architecture_problem, llama_cpp_description

BUILT_IN = "built-in"
RUNTIME = "llama-server"
AUTOMATIC = ""  # no choice kept: the architecture decides
CHOICES = (AUTOMATIC, BUILT_IN, RUNTIME)


@dataclass(frozen=True)
class EngineUse:
    """The engine a model will run on, and the sentence that says so."""

    runtime: RuntimeInfo | None  # None: the built-in llama.cpp
    automatic: bool  # the runtime was picked because the built-in llama.cpp does not know the architecture
    sentence: str

    @property
    def label(self) -> str:
        return self.runtime.label if self.runtime is not None else "built-in"


def built_in_label() -> str:
    return f"built-in (llama.cpp {llama_cpp_description()})"


def engine_use(architecture: str, choice: str, runtime: RuntimeInfo | None) -> EngineUse:
    """What runs a model of this architecture, given the model's choice (CHOICES) and the configured,
    checked runtime (None when none is set or it is not usable)."""
    problem = architecture_problem(architecture)
    if runtime is not None and choice == RUNTIME:
        return EngineUse(runtime, False, f"Engine: {runtime.label}, chosen for this model.")
    if runtime is not None and choice != BUILT_IN and problem:
        return EngineUse(runtime, True, f"{problem}: {runtime.label} will run it (automatically).")
    if problem:
        hint = (" (set to the built-in engine: choose llama-server to run it there)" if runtime is not None
                else ": a newer llama-server can run it (File → Engine runtimes)")
        return EngineUse(None, False, problem + hint + ".")
    if choice == RUNTIME:  # chosen, but no usable runtime is configured
        return EngineUse(None, False, f"Engine: {built_in_label()}; no llama-server is set (File → Engine "
                                      "runtimes).")
    return EngineUse(None, False, f"Engine: {built_in_label()}.")
