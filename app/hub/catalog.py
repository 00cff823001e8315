"""The curated list of starter models (models/catalog.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.bundled import bundled_file

CATALOG_PATH = bundled_file("models", "catalog.json")


@dataclass(frozen=True)
class CatalogEntry:
    repo: str
    file: str
    size_bytes: int
    licence: str
    summary: str


def load_catalog(path: Path | None = CATALOG_PATH) -> list[CatalogEntry]:
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [CatalogEntry(m["repo"], m["file"], int(m["size_bytes"]), m["licence"], m.get("summary", ""))
            for m in data.get("models", [])]
