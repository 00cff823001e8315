"""Write app/library/llama_arch_names.py from the llama.cpp source that llama-cpp-python vendors.

    python -m app.library.llama_arch_gen SDIST_FOLDER

SDIST_FOLDER is an unpacked llama-cpp-python source archive (bench/engine_throughput.py's
build_reference keeps one in ~/.cache/hearth/llama-ref/VERSION/src). The names are llama.cpp's
own table (LLM_ARCH_NAMES in src/llama-arch.cpp), so the library page can say before any load
that a model's architecture is one this llama.cpp does not know. tests/library/test_llama_arch.py
regenerates the list from the cached source and checks it matches the shipped one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ARCH_SOURCE = Path("vendor/llama.cpp/src/llama-arch.cpp")
NAMES_FILE = Path(__file__).with_name("llama_arch_names.py")
# llama.cpp's build number is the count of commits on its master branch, which a source archive does not
# carry: the number for each commit llama-cpp-python vendors is recorded here from its release notes.
BUILDS = {"0c1e57098": "b11312"}
NOT_MODELS = {"clip", "(unknown)"}  # "clip" is a dummy entry for llama-quantize; "(unknown)" is the fallback
_TABLE = re.compile(r"LLM_ARCH_NAMES\s*=\s*\{(?P<body>.*?)\n\};", re.DOTALL)
_ENTRY = re.compile(r'\{\s*LLM_ARCH_\w+\s*,\s*"(?P<name>[^"]+)"\s*\}')


def arch_names(source: str) -> list[str]:
    """The architecture names in llama-arch.cpp's LLM_ARCH_NAMES, in its order, without the non-models."""
    table = _TABLE.search(source)
    if table is None:
        raise ValueError("no LLM_ARCH_NAMES table in this llama-arch.cpp")
    return [m["name"] for m in _ENTRY.finditer(table["body"]) if m["name"] not in NOT_MODELS]


def package_version(sdist: Path) -> str:
    text = (sdist / "llama_cpp" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if found is None:
        raise ValueError(f"no __version__ in {sdist / 'llama_cpp' / '__init__.py'}")
    return found[1]


def vendored_commit(sdist: Path) -> str:
    """The llama.cpp commit of the newest release in llama-cpp-python's CHANGELOG ("" when it names none)."""
    changelog = (sdist / "CHANGELOG.md").read_text(encoding="utf-8")
    found = re.search(r"update llama\.cpp to (?:ggml-org|ggerganov)/llama\.cpp@([0-9a-f]{7,40})", changelog,
                      re.IGNORECASE)
    return found[1][:9] if found else ""


def render(sdist: Path) -> str:
    """The text of llama_arch_names.py for this source archive."""
    names = arch_names((sdist / ARCH_SOURCE).read_text(encoding="utf-8"))
    commit = vendored_commit(sdist)
    lines = [
        '"""The model architectures the vendored llama.cpp knows (generated: do not edit).',
        "",
        "Written by `python -m app.library.llama_arch_gen` from llama.cpp's src/llama-arch.cpp.",
        '"""',
        "",
        f'LLAMA_CPP_PYTHON_VERSION = "{package_version(sdist)}"',
        f'LLAMA_CPP_COMMIT = "{commit}"',
        f'LLAMA_CPP_BUILD = "{BUILDS.get(commit, "")}"',
        "ARCHITECTURES = frozenset({",
    ]
    row: list[str] = []
    for name in names:
        if row and len("    " + " ".join(row) + f' "{name}",') > 110:
            lines.append("    " + " ".join(row))
            row = []
        row.append(f'"{name}",')
    if row:
        lines.append("    " + " ".join(row))
    lines.append("})")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / ARCH_SOURCE).is_file():
        print("usage: python -m app.library.llama_arch_gen SDIST_FOLDER (an unpacked llama-cpp-python source)",
              file=sys.stderr)
        return 2
    NAMES_FILE.write_text(render(Path(argv[0])), encoding="utf-8")
    print(f"wrote {NAMES_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
