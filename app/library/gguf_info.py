"""Read a GGUF file's header into ModelInfo without loading the model.

Also the single place that says what is wrong with a file that is not a
usable GGUF (missing, not GGUF, truncated), so the engine and the library
give the same plain message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPLIT_RE = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)

# Architectures llama.cpp can run that we expect to meet; anything else is
# still tried, but a failed load then says the architecture is the likely cause.
QUANT_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
    22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4",
}


class GGUFFileError(ValueError):
    """The file is not a GGUF model we can read; the message says why in plain words."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "missing_file", "not_gguf", "truncated"


@dataclass(frozen=True)
class GGUFInfo:
    path: str
    name: str
    architecture: str
    n_params: int
    quantization: str
    context_length: int
    n_layers: int
    embedding_length: int
    n_head: int
    n_head_kv: int
    size_bytes: int
    has_chat_template: bool
    chat_template: str
    bos_token: str
    eos_token: str
    shard_paths: tuple[str, ...]
    layer_bytes: tuple[int, ...]  # bytes of the weights in each repeating block
    other_bytes: int  # embeddings, output head and norms

    @property
    def display_name(self) -> str:
        return self.name or Path(self.path).stem


def split_shards(path: Path) -> list[Path]:
    """All shards of a split model given any one of them; [path] when not split."""
    match = SPLIT_RE.match(path.name)
    if not match:
        return [path]
    stem, count = match["stem"], int(match["count"])
    width = len(match["index"])
    return [path.with_name(f"{stem}-{i:0{width}d}-of-{match['count']}.gguf") for i in range(1, count + 1)]


def check_file(path: Path) -> None:
    """Raise GGUFFileError with a readable message if this is not a whole GGUF file."""
    if not path.exists():
        raise GGUFFileError("missing_file", f"model file not found: {path}")
    if path.is_dir():
        raise GGUFFileError("not_gguf", f"this is a folder, not a GGUF model file: {path}")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise GGUFFileError("not_gguf", f"not a GGUF model file (wrong file type): {path.name}")


def _field_value(reader, key: str):
    field = reader.fields.get(key)
    if field is None:
        return None
    try:
        return field.contents()
    except Exception:
        return None


def _read_one(path: Path):
    from gguf import GGUFReader  # imported lazily: numpy and gguf are not needed at start-up

    check_file(path)
    try:
        reader = GGUFReader(str(path), "r")
    except Exception as exc:  # the reader's own words (numpy shapes) would mean nothing to a person
        raise GGUFFileError("truncated", f"the GGUF file is damaged or incomplete: {path.name}") from exc
    size = path.stat().st_size
    for tensor in reader.tensors:
        if int(tensor.data_offset) + int(tensor.n_bytes) > size:
            raise GGUFFileError(
                "truncated",
                f"the GGUF file is incomplete (cut off at {size:,} bytes; the download may have stopped): {path.name}",
            )
    return reader


@lru_cache(maxsize=256)
def _read_cached(path_str: str, mtime_ns: int, size: int) -> GGUFInfo:
    path = Path(path_str)
    shards = split_shards(path)
    missing = [s for s in shards if not s.exists()]
    if missing:
        raise GGUFFileError("missing_file", f"a part of this split model is missing: {missing[0].name}")
    first = _read_one(shards[0])
    readers = [first] + [_read_one(s) for s in shards[1:]]

    arch = str(_field_value(first, "general.architecture") or "")
    if not arch:
        raise GGUFFileError("not_gguf", f"the GGUF file names no architecture: {path.name}")

    def arch_int(key: str) -> int:
        value = _field_value(first, f"{arch}.{key}")
        if isinstance(value, list):  # per-layer values (some models) -> the largest
            value = max(value) if value else 0
        return int(value or 0)

    n_params = 0
    layer_bytes: dict[int, int] = {}
    other = 0
    by_type: Counter[str] = Counter()
    for reader in readers:
        for tensor in reader.tensors:
            n_params += int(tensor.n_elements)
            nbytes = int(tensor.n_bytes)
            by_type[tensor.tensor_type.name] += nbytes
            match = re.match(r"blk\.(\d+)\.", tensor.name)
            if match:
                layer = int(match[1])
                layer_bytes[layer] = layer_bytes.get(layer, 0) + nbytes
            else:
                other += nbytes

    file_type = _field_value(first, "general.file_type")
    if file_type is not None and int(file_type) in QUANT_NAMES:
        quant = QUANT_NAMES[int(file_type)]
    else:
        quant = by_type.most_common(1)[0][0] if by_type else "unknown"

    tokens = first.fields.get("tokenizer.ggml.tokens")

    def token_text(key: str) -> str:
        token_id = _field_value(first, key)
        if token_id is None or tokens is None:
            return ""
        try:
            idx = tokens.data[int(token_id)]
            return bytes(tokens.parts[idx]).decode("utf-8", errors="replace")
        except (IndexError, ValueError):
            return ""

    template = _field_value(first, "tokenizer.chat_template") or ""
    n_layers = arch_int("block_count")
    return GGUFInfo(
        path=str(path),
        name=str(_field_value(first, "general.name") or ""),
        architecture=arch,
        n_params=n_params,
        quantization=quant,
        context_length=arch_int("context_length"),
        n_layers=n_layers,
        embedding_length=arch_int("embedding_length"),
        n_head=arch_int("attention.head_count"),
        n_head_kv=arch_int("attention.head_count_kv") or arch_int("attention.head_count"),
        size_bytes=sum(s.stat().st_size for s in shards),
        has_chat_template=bool(template),
        chat_template=str(template),
        bos_token=token_text("tokenizer.ggml.bos_token_id"),
        eos_token=token_text("tokenizer.ggml.eos_token_id"),
        shard_paths=tuple(str(s) for s in shards),
        layer_bytes=tuple(layer_bytes.get(i, 0) for i in range(n_layers)),
        other_bytes=other,
    )


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Header facts of a GGUF model (any shard of a split model names the whole model)."""
    path = Path(path).expanduser()
    check_file(path)
    stat = path.stat()
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def format_params(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    if n >= 1e6:
        return f"{n / 1e6:.0f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}K"
    return str(n)
