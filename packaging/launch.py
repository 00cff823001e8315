"""Entry point for the frozen desktop bundle."""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the engine runs in a spawned child process
    from app.cli import main

    raise SystemExit(main())
