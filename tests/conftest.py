"""Fixtures that make the world: a private HEARTH_HOME, tiny GGUF models, an engine."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.support.tiny_gguf import write_broken_models, write_tiny_model  # noqa: E402


@pytest.fixture(autouse=True)
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hearth-home"
    home.mkdir()
    monkeypatch.setenv("HEARTH_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    return home


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_model(model_dir: Path) -> Path:
    """Random weights, ChatML template; never ends a reply by itself."""
    return write_tiny_model(model_dir / "tiny-chat.gguf")


@pytest.fixture(scope="session")
def scripted_model(model_dir: Path) -> Path:
    """Greedy replies are exactly ' Hello world', then end of turn."""
    return write_tiny_model(model_dir / "tiny-scripted.gguf", scripted=True, name="Scripted Tiny")


@pytest.fixture(scope="session")
def no_template_model(model_dir: Path) -> Path:
    return write_tiny_model(model_dir / "tiny-no-template.gguf", chat_template=None, name="No Template Tiny")


@pytest.fixture(scope="session")
def broken_models(model_dir: Path, tiny_model: Path) -> dict[str, Path]:
    return write_broken_models(model_dir / "broken", tiny_model)


@pytest.fixture
def engine():
    from app.engine import EngineClient

    client = EngineClient()
    yield client
    client.close()
