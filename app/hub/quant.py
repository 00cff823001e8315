"""GGUF file names on the Hub: quantization type and split-file grouping (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.library.gguf_info import SPLIT_RE

QUANT_RE = re.compile(
    r"(?<![A-Za-z0-9])(IQ[1-4]_(?:XXS|XS|S|M|NL)|I?Q[2-8]_K(?:_[SML]|_XL)?|Q[4-8]_[01]|Q8_0|TQ[12]_0|MXFP4|F16|BF16|F32|FP16)"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
QUANT_ORDER = ["Q2_K", "Q2_K_S", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "Q3_K_S", "IQ3_XXS",
               "IQ3_XS", "IQ3_S", "IQ3_M", "Q3_K_M", "Q3_K_L", "Q3_K_XL", "IQ4_XS", "IQ4_NL", "Q4_0", "Q4_1",
               "Q4_K_S", "Q4_K_M", "Q4_K_XL", "Q5_0", "Q5_1", "Q5_K_S", "Q5_K_M", "Q5_K_XL", "Q6_K", "Q6_K_XL",
               "Q8_0", "MXFP4", "TQ1_0", "TQ2_0", "F16", "BF16", "F32"]


def quant_of(filename: str) -> str:
    match = QUANT_RE.search(filename.rsplit("/", 1)[-1])
    if not match:
        return "unknown"
    quant = match.group(1).upper()
    return "F16" if quant == "FP16" else quant


def quant_rank(quant: str) -> int:
    return QUANT_ORDER.index(quant) if quant in QUANT_ORDER else len(QUANT_ORDER)


@dataclass(frozen=True)
class HubFile:
    path: str  # inside the repository
    size: int
    sha256: str  # empty when the Hub gave none (small non-LFS files)


@dataclass(frozen=True)
class GGUFChoice:
    """One downloadable model: a single GGUF or all the parts of a split one."""

    name: str  # what the user sees (first part's name for split models)
    quant: str
    parts: tuple[HubFile, ...]
    projectors: tuple[HubFile, ...] = ()  # the repository's image projectors, the likeliest first

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def first_path(self) -> str:
        return self.parts[0].path


def group_gguf_files(files: list[HubFile]) -> list[GGUFChoice]:
    """GGUF files grouped into models (split parts together), ordered by quantization then size."""
    singles: list[GGUFChoice] = []
    splits: dict[tuple[str, str], list[tuple[int, HubFile]]] = {}
    for f in files:
        name = f.path.rsplit("/", 1)[-1]
        if not name.lower().endswith(".gguf"):
            continue
        if is_projector_name(name):
            continue  # vision projectors are not chat models (each choice lists them in `projectors`)
        match = SPLIT_RE.match(name)
        if match:
            folder = f.path[: -len(name)]
            splits.setdefault((folder, match["stem"]), []).append((int(match["index"]), f))
        else:
            singles.append(GGUFChoice(f.path, quant_of(f.path), (f,)))
    for (folder, stem), parts in splits.items():
        parts.sort()
        files_ = tuple(f for _, f in parts)
        singles.append(GGUFChoice(files_[0].path, quant_of(stem) if quant_of(stem) != "unknown"
                                  else quant_of(folder), files_))
    singles.sort(key=lambda c: (quant_rank(c.quant), c.size, c.name))
    projectors = [f for f in files if f.path.lower().endswith(".gguf") and is_projector_name(f.path)]
    return [replace(c, projectors=likeliest_projectors(c, projectors)) if projectors else c for c in singles]


def is_projector_name(path: str) -> bool:
    """Whether a Hub file is an image projector. Before a download only its name can say: the ones
    llama.cpp's converters and the usual quantizers write all carry "mmproj" (the library, which has
    the file, goes by its header: app/library/projector.py)."""
    return "mmproj" in path.rsplit("/", 1)[-1].lower()


def likeliest_projectors(choice: GGUFChoice, projectors: list[HubFile]) -> tuple[HubFile, ...]:
    """The projectors for `choice`, the likeliest first: beside it, then the closest name, then F16
    (what llama.cpp's own guides use), then the smallest."""
    folder = choice.first_path.rsplit("/", 1)[0] if "/" in choice.first_path else ""
    stem = choice.first_path.rsplit("/", 1)[-1].lower()

    def key(f: HubFile) -> tuple[bool, int, bool, int]:
        here = (f.path.rsplit("/", 1)[0] if "/" in f.path else "") == folder
        name = f.path.rsplit("/", 1)[-1].lower().removeprefix("mmproj-").removeprefix("mmproj_")
        differ = (i for i, (a, b) in enumerate(zip(stem, name, strict=False)) if a != b)
        shared = next(differ, min(len(stem), len(name)))
        return not here, -shared, quant_of(f.path) != "F16", f.size

    return tuple(sorted(projectors, key=key))


def projector_choice(projector: HubFile) -> GGUFChoice:
    """A projector as a download of its own (it lands beside its model: the same repository folder)."""
    return GGUFChoice(projector.path, quant_of(projector.path), (projector,))
