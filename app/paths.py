"""Every on-disk location the app writes to.

`HEARTH_HOME` moves all of them under one folder (tests always set it);
otherwise platformdirs picks the platform's usual places. Folders are made
when asked for, except with `create=False` (commands that only read, like
`hearth doctor`); a folder that cannot be made (a read-only home) is not an
error here: whoever writes into it reports that.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "Hearth"


def _home() -> Path | None:
    value = os.environ.get("HEARTH_HOME")
    return Path(value).expanduser() if value else None


def _folder(path: Path, create: bool) -> Path:
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # read-only or full: reading still works, writers say what failed
    return path


def _user_dir(kind: str) -> Path:
    """platformdirs' folder of this kind ("data", "config", "log") for the app.

    Imported here, not at the top: with HEARTH_HOME set, the engine's modules run where only
    numpy and jinja2 are installed (the GPU recipe in docs/BENCHMARKS.md).
    """
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))


def data_dir(create: bool = True) -> Path:
    home = _home()
    return _folder(home / "data" if home else _user_dir("data"), create)


def config_dir(create: bool = True) -> Path:
    home = _home()
    return _folder(home / "config" if home else _user_dir("config"), create)


def log_dir(create: bool = True) -> Path:
    home = _home()
    return _folder(home / "logs" if home else _user_dir("log"), create)


def models_dir(create: bool = True) -> Path:
    return _folder(data_dir(create) / "models", create)


def database_path(create: bool = True) -> Path:
    return data_dir(create) / "conversations.sqlite3"


def library_index_path(create: bool = True) -> Path:
    return data_dir(create) / "library-index.sqlite3"


def settings_path(create: bool = True) -> Path:
    return config_dir(create) / "settings.json"


def downloads_state_dir(create: bool = True) -> Path:
    return _folder(data_dir(create) / "downloads", create)


def engine_state_dir(create: bool = True) -> Path:
    """What the engine learned about this machine (for example that llama.cpp's AMX code crashes here)."""
    return _folder(data_dir(create) / "engine", create)
