"""Typed application settings, saved atomically as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from app import paths
from app.atomic_json import write_json_atomically
from app.engine.protocol import AUTO_LAYERS


@dataclass
class Settings:
    extra_model_dirs: list[str] = field(default_factory=list)
    last_model: str = ""
    n_ctx: int = 4096
    n_gpu_layers: int = AUTO_LAYERS  # as many as fit; -1: all
    flash_attn: str = "auto"  # auto, on or off
    kv_cache_type: str = "f16"
    n_batch: int = 512
    n_threads: int = 0  # 0: let the engine pick
    use_mmap: bool = True
    chat_template_files: dict[str, str] = field(default_factory=dict)  # model path -> .jinja override
    # model path -> last load and sampling (model_defaults.py)
    model_defaults: dict[str, dict] = field(default_factory=dict)
    selected_chat: int = 0
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    splitter_state: str = ""
    chat_panel_visible: bool = True  # the chat page's settings panel (Chat → Show settings panel)
    hub_sort: str = "downloads"

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or paths.settings_path(create=False)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        default = cls()
        for key, value in raw.items():
            if key in known and isinstance(value, type(getattr(default, key))):
                kwargs[key] = value
        return cls(**kwargs)

    def save(self, path: Path | None = None) -> None:
        write_json_atomically(path or paths.settings_path(), asdict(self))
