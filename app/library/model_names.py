"""Names people recognise for model files: the file (or repository) name plus the quantization.

`general.name` in a GGUF header is often a training-run label ("Smollm2 135M 8k Lc100K
Mix1 Ep2"), so the name shown is made from the file name the publisher chose, e.g.
"SmolLM2-135M-Instruct.Q4_1.gguf" → "SmolLM2 135M Instruct · Q4_1". When the file name
says nothing (model.gguf, ggml-model-q4_0.gguf) the repository folder's name is used.
`general.name` stays in the model's details. A word the file writes all in lower case takes
its capitalisation from the repository or `general.name` when they are the same name (one
is the other's first words), and parameter counts read 270M, 1.5B
("gemma-3-270m.gguf" + "Gemma 3 270m" → "Gemma 3 270M").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath

SPLIT_SUFFIX = re.compile(r"-\d{5}-of-\d{5}$")
# A quantization at the end of a file stem: .Q4_1, -Q4_K_M, -UD-Q4_K_XL, -IQ3_XXS, .f16, -BF16, -MXFP4_MOE
QUANT_SUFFIX = re.compile(
    r"[-_.](?:UD-)?(?:I?Q\d+(?:_[A-Z0-9]+)*|F16|F32|BF16|FP16|FP32|MXFP4(?:_MOE)?|TQ\d_\d)$", re.IGNORECASE)
REPO_SUFFIX = re.compile(r"[-_.]gguf$", re.IGNORECASE)
GENERIC_STEMS = {"model", "ggml-model", "ggml_model", "gguf", "weights", "unsloth"}
# a parameter count: 270m, 1.5b, 8x7b (the unit is written in capitals)
PARAM_COUNT = re.compile(r"^(?:\d+x)?\d+(?:\.\d+)?[kmbt]$")


def split_name(path: str | PurePath, header_name: str = "") -> tuple[str, str]:
    """(the model's name, the quantization its file name gives, or ""). The name comes from the
    file name, or from its repository folder when the file name is generic; lower-case words are
    written as the repository or `header_name` (general.name) write them."""
    path = PurePath(path)
    stem = SPLIT_SUFFIX.sub("", path.stem)
    quant = ""
    match = QUANT_SUFFIX.search(stem)
    if match:
        quant = match.group(0)[1:].upper()
        stem = stem[:match.start()]
    if stem.lower() in GENERIC_STEMS or not stem:
        stem = repo_name(path) or stem or path.stem
    name = _words(REPO_SUFFIX.sub("", stem))
    return recase(name, (repo_name(path), header_name)), quant


def recase(name: str, hints: Iterable[str]) -> str:
    """Each all-lower-case word of `name` as a hint spells it, when the hint is the same name (one
    is the other's first words, ignoring case); parameter counts as 270M."""
    words = name.split()
    for hint in hints:
        spelled = _words(REPO_SUFFIX.sub("", hint)).split()
        common = min(len(spelled), len(words))
        if not common or [w.lower() for w in spelled[:common]] != [w.lower() for w in words[:common]]:
            continue
        words = [h if w == w.lower() else w for w, h in zip(words[:common], spelled)] + words[common:]
    return " ".join(w.upper().replace("X", "x") if PARAM_COUNT.match(w) else w for w in words)


def repo_name(path: PurePath) -> str:
    """The repository a file came from: Hugging Face cache (models--org--repo/snapshots/…) or
    Hearth's models/<publisher>/<repo>/ folder; "" when the folders say nothing."""
    parts = path.parts
    for part in reversed(parts):
        if part.startswith("models--"):
            return part.split("--")[-1]
    parent = path.parent.name
    return "" if parent in ("", "models", "snapshots") else parent


def friendly_name(path: str | PurePath, quantization: str = "", header_name: str = "") -> str:
    """"SmolLM2 135M Instruct · Q4_1": the base name, then the quantization when it is known."""
    name, file_quant = split_name(path, header_name)
    quant = file_quant or quantization.strip()  # the file's own label says more (Q4_K_XL, not Q4_K_M)
    if not quant or quant.lower() in ("unknown", "?") or quant.lower() in name.lower().split():
        return name
    return f"{name} · {quant}"


def repo_display_name(repo_id: str) -> str:
    """"bartowski/Llama-3.2-1B-Instruct-GGUF" → "Llama 3.2 1B Instruct"."""
    return recase(_words(REPO_SUFFIX.sub("", repo_id.rsplit("/", 1)[-1])), ()) or repo_id


def _words(stem: str) -> str:
    """Dashes and underscores become spaces; dots stay (3.2, v0.1)."""
    return " ".join(stem.replace("_", " ").replace("-", " ").split())
