"""Typed application settings, saved atomically as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from app import load_limits as limits
from app import paths
from app.atomic_json import write_json_atomically
from app.store.changes import Change, ChangeHub


@dataclass
class Settings:
    extra_model_dirs: list[str] = field(default_factory=list)
    last_model: str = ""
    # the load settings shown last (bounds and meanings: load_limits.py)
    n_ctx: int = limits.CONTEXT_DEFAULT
    n_gpu_layers: int = limits.GPU_LAYERS_DEFAULT  # as many as fit; -1: all
    flash_attn: str = limits.FLASH_DEFAULT  # auto, on or off
    kv_cache_type: str = limits.KV_CACHE_DEFAULT
    n_batch: int = limits.BATCH_DEFAULT
    n_threads: int = limits.THREADS_DEFAULT  # 0: let the engine pick
    use_mmap: bool = limits.MMAP_DEFAULT
    mmproj_gpu: bool = True  # a vision model's image projector on the GPU (where there is one) or the CPU
    chat_template_files: dict[str, str] = field(default_factory=dict)  # model path -> .jinja override
    # model path -> last load and sampling (model_defaults.py)
    model_defaults: dict[str, dict] = field(default_factory=dict)
    selected_chat: int = 0
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    splitter_state: str = ""
    chat_panel_visible: bool = True  # the chat page's settings panel (Chat → Show settings panel)
    hub_sort: str = "downloads"
    # a llama-server (binary or build folder) Hearth may start for models (engine/managed_runtime.py), and
    # per model path "built-in" or "llama-server"; a model neither names runs on llama-server only when the
    # built-in llama.cpp does not know its architecture
    engine_runtime: str = ""
    model_engines: dict[str, str] = field(default_factory=dict)
    keep_token_probs: bool = True  # saved replies keep their token probabilities (Chat menu)

    def __post_init__(self) -> None:
        self._changes: ChangeHub | None = None  # where saves are announced (announce_to)
        self._saved = asdict(self)  # as last loaded or saved: what a save changes is told apart from it

    def announce_to(self, changes: ChangeHub) -> None:
        """From now on a save announces ("updated", "model", path) for each model whose remembered load or
        sampling settings changed, and ("updated", "settings", "app") when anything else did."""
        self._changes = changes

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
        data = asdict(self)
        write_json_atomically(path or paths.settings_path(), data)
        before, self._saved = self._saved, data
        if self._changes is not None:
            old, new = before.get("model_defaults", {}), data["model_defaults"]
            changes = [Change("updated", "model", p) for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
            if {k: v for k, v in data.items() if k != "model_defaults"} != \
                    {k: v for k, v in before.items() if k != "model_defaults"}:
                changes.append(Change("updated", "settings", "app"))
            self._changes.publish(changes)
