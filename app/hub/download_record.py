"""What a download is and how far it got: the record saved for resuming, its status and progress."""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from app import paths
from app.atomic_json import write_json_atomically
from app.hub.quant import GGUFChoice


class DownloadStatus(StrEnum):
    """Saved in the record as its value, so old records read back unchanged."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    FAILED = "failed"
    DONE = "done"


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int
    speed_bps: float
    eta_s: float | None
    part: int  # 1-based
    parts: int
    waiting_s: float = 0.0  # > 0: the server asked us to wait; seconds left before the next try


@dataclass
class DownloadRecord:
    """What a download is, saved so it can be resumed after a restart."""

    repo_id: str
    name: str
    quant: str
    parts: list[dict]  # {path, size, sha256, done}; done: [[start, end), ...] on disk (absent in old records)
    revision: str = "main"
    status: DownloadStatus = DownloadStatus.QUEUED
    error: str = ""
    local_path: str = ""
    created: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.repo_id}__{self.name}")

    @property
    def total_bytes(self) -> int:
        return sum(int(p["size"]) for p in self.parts)

    def save(self) -> None:
        write_json_atomically(paths.downloads_state_dir() / f"{self.key}.json", asdict(self))

    def forget(self) -> None:
        (paths.downloads_state_dir() / f"{self.key}.json").unlink(missing_ok=True)

    @classmethod
    def for_choice(cls, repo_id: str, choice: GGUFChoice, revision: str = "main") -> DownloadRecord:
        return cls(repo_id, choice.name, choice.quant,
                   [{"path": p.path, "size": p.size, "sha256": p.sha256} for p in choice.parts], revision)


def saved_record(key: str) -> DownloadRecord | None:
    """The record saved under `key`, if there is a readable one."""
    return _read(paths.downloads_state_dir() / f"{key}.json")


def _read(path: Path) -> DownloadRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = DownloadRecord(**data)
        record.status = DownloadStatus(record.status)
    except (OSError, ValueError, TypeError):
        return None
    return record


def saved_downloads() -> list[DownloadRecord]:
    """Downloads that were not finished when the app last stopped."""
    records = [_read(path) for path in sorted(paths.downloads_state_dir().glob("*.json"))]
    return [r for r in records if r is not None and r.status != DownloadStatus.DONE]
