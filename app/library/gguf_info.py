"""A GGUF model's header facts (GGUFInfo) without loading the model or decoding its vocabulary.

Also the single place that says what is wrong with a file that is not a
usable GGUF (missing, not GGUF, truncated), so the engine and the library
give the same plain message.
"""

from __future__ import annotations

import math
import platform
import re
import stat
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.library.gguf_reader import GGUFErrorKind, Header, HeaderError, read_header, string_at
from app.library.gguf_types import TYPE_NAMES, TensorInfo
from app.library.model_names import friendly_name

SPLIT_RE = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
LAYER_RE = re.compile(r"blk\.(\d+)\.")
MAX_TOKEN_WALK = 16384  # bos/eos text is read when its id is below this (a few ms); the engine knows the rest
# The weight types llama.cpp's CPU backend repacks on this kind of CPU (Q4_0, Q4_K, IQ4_NL, MXFP4; on ARM
# also Q5_K, Q6_K and Q8_0). Q2_K is repacked only with AVX-512, not counted.
REPACKED_TYPES = frozenset({2, 12, 20, 39} | ({13, 14, 8} if platform.machine().lower() in ("arm64", "aarch64")
                                              else set()))
MAX_LAYERS = 4096  # more layers than any model has: a header claiming more is not believed
HEADER_TIME_LIMIT = 10.0  # seconds a header read may take when a file is opened, loaded or imported

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

    def __init__(self, kind: GGUFErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


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
    vocab_size: int = 0
    bos_token_id: int = -1
    eos_token_id: int = -1
    file_type: int = -1  # general.file_type, -1 when absent
    finetune: str = ""  # general.finetune ("Instruct", "it"), "" when absent
    tags: tuple[str, ...] = ()  # general.tags
    # for the memory plan (memory_plan.py): 0 when the header does not say
    feed_forward_length: int = 0
    key_length: int = 0  # per-head K size; 0: embedding_length / n_head
    value_length: int = 0
    sliding_window: int = 0  # >0: some layers attend to a window (Gemma-style), llama.cpp then builds two masks
    # an image projector's encoder (arch "clip"), for its working memory in the plan; 0 elsewhere
    image_patches: int = 0  # patches of one image at the encoder's size
    vision_width: int = 0
    vision_ffn: int = 0
    # what llama.cpp's CPU backend copies into its repacked layout (a second copy beside the mapped file):
    # per block, and the output head's; and the BPE merges (llama.cpp keeps a map of them)
    repack_layer_bytes: tuple[int, ...] = ()
    repack_other_bytes: int = 0
    n_merges: int = 0

    @property
    def display_name(self) -> str:
        """What people call it: file or repository name plus quantization (`general.name` is `name`)."""
        return friendly_name(self.path, self.quantization, self.name)


def is_repacked(tensor: TensorInfo) -> bool:
    """Whether llama.cpp's CPU backend copies this weight into its repacked layout (ggml-cpu/repack.cpp,
    ggml_repack_get_optimal_repack_type, for an x86-64 CPU with AVX2 or an ARM one with dot products): a
    matrix multiplied in a block or the output head, of a repackable type, in rows of eight. The token
    embeddings are looked up by row, never repacked."""
    return (tensor.type in REPACKED_TYPES and len(tensor.dims) >= 2 and tensor.dims[1] % 8 == 0
            and not tensor.name.startswith("token_embd") and tensor.name.endswith(".weight"))


def _array_count(value: object) -> int:
    """How many elements a header array has, decoded (a list) or skipped (an ArrayRef); 0 when absent."""
    return len(value) if isinstance(value, list) else getattr(value, "count", 0)


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
        raise GGUFFileError(GGUFErrorKind.MISSING_FILE, f"model file not found: {path}")
    if path.is_dir():
        raise GGUFFileError(GGUFErrorKind.NOT_GGUF, f"this is a folder, not a GGUF model file: {path}")
    if not stat.S_ISREG(path.stat().st_mode):  # a pipe or a device would block the first read
        raise GGUFFileError(GGUFErrorKind.NOT_GGUF, f"not a regular file, so not a GGUF model file: {path.name}")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise GGUFFileError(GGUFErrorKind.NOT_GGUF, f"not a GGUF model file (wrong file type): {path.name}")


def _as_int(value: Any) -> int:
    if isinstance(value, list):  # per-layer values (some models): the largest
        value = max((v for v in value if isinstance(v, (int, float))), default=0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return int(value)


@contextmanager
def _plain_errors(path: Path) -> Iterator[None]:
    """The reader's errors as GGUFFileError, the one kind callers catch."""
    try:
        yield
    except HeaderError as exc:
        raise GGUFFileError(exc.kind, str(exc)) from None
    except TimeoutError as exc:
        raise GGUFFileError(GGUFErrorKind.TIMEOUT, f"reading this file's header took too long: {path.name}") from exc


def _token_text(path: Path, header: Header, token_id: int, deadline: float | None) -> str:
    tokens = header.values.get("tokenizer.ggml.tokens")
    if token_id < 0 or tokens is None:
        return ""
    if isinstance(tokens, list):
        return tokens[token_id] if token_id < len(tokens) else ""
    if token_id > MAX_TOKEN_WALK:  # finding it means walking every string before it: not worth a slow scan
        return ""
    with _plain_errors(path):
        return string_at(path, tokens, token_id, deadline)


def _read_shard(path: Path, deadline: float | None) -> Header:
    check_file(path)
    with _plain_errors(path):
        header = read_header(path, deadline)
    for tensor in header.tensors:
        if header.data_offset + tensor.offset + tensor.n_bytes > header.file_size:
            raise GGUFFileError(
                GGUFErrorKind.TRUNCATED,
                f"the GGUF file is incomplete (cut off at {header.file_size:,} bytes; the download may have "
                f"stopped): {path.name}",
            )
    return header


def read_info_uncached(path: Path, deadline: float | None = None) -> GGUFInfo:
    """Header facts of a model (all shards), reading only the keys and tensor infos it needs.

    Raises GGUFFileError or OSError and nothing else, whatever the file holds.
    """
    try:
        return _read_info(path, deadline)
    except (GGUFFileError, OSError):
        raise
    except Exception as exc:  # a damage the reader's checks did not foresee still names the file plainly
        raise GGUFFileError(GGUFErrorKind.NOT_GGUF,
                            f"the GGUF header is damaged ({type(exc).__name__}): {path.name}") from exc


def _read_info(path: Path, deadline: float | None) -> GGUFInfo:
    shards = split_shards(path)
    missing = [s for s in shards if not s.exists()]
    if missing:
        raise GGUFFileError(GGUFErrorKind.MISSING_FILE, f"a part of this split model is missing: {missing[0].name}")
    headers = [_read_shard(s, deadline) for s in shards]
    first = headers[0]
    values = first.values
    arch = values.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise GGUFFileError(GGUFErrorKind.NOT_GGUF, f"the GGUF file names no architecture: {path.name}")

    def arch_int(key: str) -> int:
        return _as_int(values.get(f"{arch}.{key}"))

    n_params = 0
    layer_bytes: dict[int, int] = {}
    repack_layer: dict[int, int] = {}
    repack_other = 0
    other = 0
    by_type: Counter[str] = Counter()
    for header in headers:
        for tensor in header.tensors:
            n_params += tensor.n_elements
            by_type[TYPE_NAMES.get(tensor.type, str(tensor.type))] += tensor.n_bytes
            match = LAYER_RE.match(tensor.name)
            repacked = tensor.n_bytes if is_repacked(tensor) else 0
            if match:
                layer = int(match[1])
                layer_bytes[layer] = layer_bytes.get(layer, 0) + tensor.n_bytes
                repack_layer[layer] = repack_layer.get(layer, 0) + repacked
            else:
                repack_other += repacked
                other += tensor.n_bytes

    file_type = values.get("general.file_type")
    file_type = file_type if isinstance(file_type, int) and not isinstance(file_type, bool) else -1
    if file_type in QUANT_NAMES:
        quant = QUANT_NAMES[file_type]
    else:
        quant = by_type.most_common(1)[0][0] if by_type else "unknown"

    tokens = values.get("tokenizer.ggml.tokens")
    vocab_size = arch_int("vocab_size") or (len(tokens) if isinstance(tokens, list) else getattr(tokens, "count", 0))
    bos_id = _as_int(values.get("tokenizer.ggml.bos_token_id", -1)) if "tokenizer.ggml.bos_token_id" in values else -1
    eos_id = _as_int(values.get("tokenizer.ggml.eos_token_id", -1)) if "tokenizer.ggml.eos_token_id" in values else -1
    template = values.get("tokenizer.chat_template")
    template = template if isinstance(template, str) else ""
    name = values.get("general.name")
    finetune = values.get("general.finetune")
    tags = values.get("general.tags")
    n_layers = arch_int("block_count")
    return GGUFInfo(
        path=str(path),
        name=name if isinstance(name, str) else "",
        architecture=arch,
        n_params=n_params,
        quantization=quant,
        context_length=arch_int("context_length"),
        n_layers=n_layers,
        # a projector's (arch "clip"): the width of what it hands its model, which pairs them (projector.py)
        embedding_length=arch_int("embedding_length") or _as_int(values.get("clip.vision.projection_dim")),
        n_head=arch_int("attention.head_count"),
        n_head_kv=arch_int("attention.head_count_kv") or arch_int("attention.head_count"),
        size_bytes=sum(h.file_size for h in headers),
        has_chat_template=bool(template),
        chat_template=template,
        bos_token=_token_text(shards[0], first, bos_id, deadline),
        eos_token=_token_text(shards[0], first, eos_id, deadline),
        shard_paths=tuple(str(s) for s in shards),
        layer_bytes=tuple(layer_bytes.get(i, 0) for i in range(min(n_layers, MAX_LAYERS))),
        other_bytes=other,
        repack_layer_bytes=tuple(repack_layer.get(i, 0) for i in range(min(n_layers, MAX_LAYERS))),
        repack_other_bytes=repack_other,
        n_merges=_array_count(values.get("tokenizer.ggml.merges")),
        vocab_size=vocab_size,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        file_type=file_type,
        finetune=finetune if isinstance(finetune, str) else "",
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        feed_forward_length=arch_int("feed_forward_length"),
        key_length=arch_int("attention.key_length"),
        value_length=arch_int("attention.value_length"),
        sliding_window=arch_int("attention.sliding_window"),
        image_patches=(_as_int(values.get("clip.vision.image_size")) // max(_as_int(values.get(
            "clip.vision.patch_size")), 1)) ** 2,
        vision_width=_as_int(values.get("clip.vision.embedding_length")),
        vision_ffn=_as_int(values.get("clip.vision.feed_forward_length")),
    )


@lru_cache(maxsize=256)
def _read_cached(path_str: str, mtime_ns: int, size: int, time_limit: float) -> GGUFInfo:
    return read_info_uncached(Path(path_str), deadline=time.monotonic() + time_limit)


def read_gguf_info(path: str | Path, time_limit: float | None = None) -> GGUFInfo:
    """Header facts of a GGUF model (any shard of a split model names the whole model).

    Every caller gets a deadline (HEADER_TIME_LIMIT unless told): a header that takes longer
    raises GGUFFileError (TIMEOUT), and the reader's memory budget bounds what it may cost.
    """
    path = Path(path).expanduser()
    check_file(path)
    stat = path.stat()
    limit = HEADER_TIME_LIMIT if time_limit is None else time_limit
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size, limit)


def format_params(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    if n >= 1e6:
        return f"{n / 1e6:.0f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}K"
    return str(n)
