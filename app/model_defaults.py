"""The load settings and sampling last used with each model file, offered again when it is chosen.

Kept in settings.json as {model path: {"load": {...}, "sampling": {...}}}. A chat's own
saved sampling still wins when the chat is opened; these apply to new chats and to the
load settings shown when a model is picked.
"""

from __future__ import annotations

from app import load_limits as limits
from app.engine.protocol import LoadOptions
from app.engine.sampling import SamplingParams
from app.load_limits import FLASH_TEXT as FLASH_TEXT
from app.load_limits import FLASH_VALUE as FLASH_VALUE
from app.load_limits import flash_value as flash_value

LOAD_FIELDS = ("n_ctx", "n_gpu_layers", "flash_attn", "kv_cache_type", "n_batch", "n_threads", "use_mmap")


def hearth_load_values() -> dict:
    """Hearth's own load settings, by name, as Settings keeps them (for a model used for the first time)."""
    return {"n_ctx": limits.CONTEXT_DEFAULT, "n_gpu_layers": limits.GPU_LAYERS_DEFAULT,
            "flash_attn": limits.FLASH_DEFAULT, "kv_cache_type": limits.KV_CACHE_DEFAULT,
            "n_batch": limits.BATCH_DEFAULT, "n_threads": limits.THREADS_DEFAULT, "use_mmap": limits.MMAP_DEFAULT}


def load_options(path: str, values: dict, chat_template_file: str = "") -> LoadOptions:
    """LoadOptions for `path` from load settings as Settings and these defaults keep them."""
    fields = {k: values[k] for k in LOAD_FIELDS if k in values}
    if "flash_attn" in fields:
        fields["flash_attn"] = flash_value(fields["flash_attn"])
    return LoadOptions(path=path, chat_template_file=chat_template_file, **fields)


def values_of(options: LoadOptions) -> dict:
    """The load values of these options, by name, as Settings and these defaults keep them (load_options'
    inverse, but for the path and the template)."""
    values = {name: getattr(options, name) for name in LOAD_FIELDS}
    values["flash_attn"] = FLASH_TEXT[options.flash_attn]
    return values


def remember_load(defaults: dict, path: str, values: dict) -> None:
    defaults.setdefault(path, {})["load"] = {k: values[k] for k in LOAD_FIELDS if k in values}


def remember_sampling(defaults: dict, path: str, sampling: SamplingParams) -> None:
    defaults.setdefault(path, {})["sampling"] = sampling.to_dict()


def load_values(defaults: dict, path: str) -> dict | None:
    """The load settings last used with `path`, or None (unknown, or a damaged entry)."""
    values = defaults.get(path, {}).get("load") if isinstance(defaults.get(path), dict) else None
    if not isinstance(values, dict):
        return None
    clean = {k: values[k] for k in LOAD_FIELDS if k in values}
    return clean if len(clean) == len(LOAD_FIELDS) else None


def sampling(defaults: dict, path: str) -> SamplingParams | None:
    """The sampling last used with `path`, or None."""
    entry = defaults.get(path)
    data = entry.get("sampling") if isinstance(entry, dict) else None
    if not isinstance(data, dict):
        return None
    try:
        return SamplingParams.from_dict(data).validated()  # a value of the wrong type fails here
    except (TypeError, ValueError):
        return None
