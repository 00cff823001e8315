"""File dialogs that open in the folder last used for that kind of file, remembered between sessions.

One kind per purpose ("model": a GGUF to open or import, "model-folder", "chat-export", "chat-import",
"template", "comparison-export"). The folders are kept in `dialog-folders.json` in the config folder;
a folder that no longer exists falls back to the home folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app import paths
from app.atomic_json import write_json_atomically

FILE_NAME = "dialog-folders.json"


def _store_path() -> Path:
    return paths.config_dir(create=False) / FILE_NAME


def _folders() -> dict[str, str]:
    try:
        data = json.loads(_store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def start_folder(kind: str) -> Path:
    """Where a dialog of this kind opens: the folder last used for it, else the home folder."""
    folder = _folders().get(kind)
    if folder and Path(folder).is_dir():
        return Path(folder)
    return Path.home()


def remember(kind: str, folder: Path) -> None:
    """The next dialog of this kind opens in `folder` (not saving it is no error: it only costs a click)."""
    folders = _folders()
    folders[kind] = str(folder)
    try:
        paths.config_dir(create=True)
        write_json_atomically(_store_path(), folders)
    except OSError:
        pass


def open_file(parent: QWidget | None, kind: str, caption: str, filters: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, caption, str(start_folder(kind)), filters)
    if path:
        remember(kind, Path(path).parent)
    return path


def save_file(parent: QWidget | None, kind: str, caption: str, file_name: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, caption, str(start_folder(kind) / file_name), filters)
    if path:
        remember(kind, Path(path).parent)
    return path


def choose_folder(parent: QWidget | None, kind: str, caption: str) -> str:
    folder = QFileDialog.getExistingDirectory(parent, caption, str(start_folder(kind)))
    if folder:
        remember(kind, Path(folder))
    return folder
