"""Where downloaded files land: one folder per repository, and no name from the Hub may leave it
or hold a control character (a NUL cannot be a file name; a newline or escape makes a file no
one can type or list safely)."""

from __future__ import annotations

from pathlib import Path

from app import paths
from app.hub.errors import HubError, HubErrorKind


def target_folder(repo_id: str) -> Path:
    publisher, _, name = repo_id.partition("/")
    if not publisher or not name or "/" in name:
        raise HubError(HubErrorKind.UNSAFE, f"not a repository name: {repo_id}")
    return paths.models_dir() / _safe_component(publisher) / _safe_component(name)


def _safe_component(part: str) -> str:
    if _has_control(part):
        raise HubError(HubErrorKind.UNSAFE, f"refusing a name with a control character: {part!r}")
    if part in ("", ".", "..") or "/" in part or "\\" in part:
        raise HubError(HubErrorKind.UNSAFE, f"refusing a name that would leave the models folder: {part!r}")
    return part


def _has_control(name: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in name)


def safe_target(folder: Path, hub_path: str) -> Path:
    """Where a repository file lands; anything that would escape `folder` is refused."""
    if _has_control(hub_path):
        raise HubError(HubErrorKind.UNSAFE, f"refusing a file name with a control character: {hub_path!r}")
    parts = hub_path.replace("\\", "/").split("/")
    if hub_path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise HubError(HubErrorKind.UNSAFE, f"refusing a file name that would leave the models folder: {hub_path!r}")
    target = folder.joinpath(*parts)
    if folder.resolve() not in target.resolve().parents:
        raise HubError(HubErrorKind.UNSAFE, f"refusing a file name that would leave the models folder: {hub_path!r}")
    return target
