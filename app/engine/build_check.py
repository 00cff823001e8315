"""`python -m app.engine.build_check`: does the installed llama.cpp match the Makefile's build?

Exits 1 (and says why) when it has AMX kernels, which the Makefile's ENGINE_CMAKE_ARGS leave out
(amx_guard says why). pip reuses a wheel it built before whatever CMAKE_ARGS say now, so an
install can end up with an older build; the Makefile then builds it again and checks once more.
"""

from __future__ import annotations

import sys

from app.engine import amx_guard


def main() -> int:
    if amx_guard.compiled_in():
        print("the installed llama-cpp-python has AMX kernels, which the Makefile leaves out: a wheel pip "
              "built before, or CMAKE_ARGS that set CMAKE_C_FLAGS or CMAKE_CXX_FLAGS", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
