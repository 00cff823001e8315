"""Fixtures that make the world: a private HEARTH_HOME, tiny GGUF models, an engine."""

from __future__ import annotations

import os

# Set before anything imports Qt or the Hub client, which read them once.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from pathlib import Path

import pytest

from tests.support.fake_hub import TEST_REPO as REPO
from tests.support.fake_hub import FakeHub
from tests.support.real_models import smollm2_path
from tests.support.tiny_gguf import write_broken_models, write_tiny_model


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
def thinking_model(model_dir: Path) -> Path:
    """Greedy replies are '<think> the user chat</think> Hello world', then end of turn."""
    return write_tiny_model(model_dir / "tiny-thinking.gguf", scripted=True, thinking=True, name="Thinking Tiny")


@pytest.fixture(scope="session")
def no_template_model(model_dir: Path) -> Path:
    return write_tiny_model(model_dir / "tiny-no-template.gguf", chat_template=None, name="No Template Tiny")


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The real SmolLM2-135M-Instruct Q4_1 file (98 MB), fetched once and verified."""
    path, why = smollm2_path()
    if path is None:
        pytest.skip(f"real SmolLM2 model not available: {why}")
    return path


@pytest.fixture(scope="session")
def broken_models(model_dir: Path, tiny_model: Path) -> dict[str, Path]:
    return write_broken_models(model_dir / "broken", tiny_model)


@pytest.fixture
def engine():
    from app.engine import EngineClient

    client = EngineClient()
    yield client
    client.close()



@pytest.fixture(scope="session")
def split_parts(model_dir):
    first = write_tiny_model(model_dir / "hub-split" / "tiny-split-Q4_K_M.gguf", scripted=True, split_max_tensors=8)
    return sorted(first.parent.glob("tiny-split-Q4_K_M-*-of-*.gguf"))


@pytest.fixture
def fake_hub(monkeypatch, tiny_model, scripted_model, split_parts):
    hub = FakeHub()
    files = {
        "README.md": b"# Tiny Chat\n\nA tiny model for tests.\n",
        "tiny-chat.Q4_K_M.gguf": scripted_model.read_bytes(),
        "tiny-chat.Q8_0.gguf": tiny_model.read_bytes(),
        "tiny-chat.F16.gguf": tiny_model.read_bytes(),
    }
    for part in split_parts:
        files[f"split/{part.name}"] = part.read_bytes()
    hub.add_repo(REPO, files, downloads=500, likes=3, last_modified="2026-05-01T00:00:00.000Z")
    hub.add_repo("other-org/Popular-Chat-GGUF", {"popular.Q4_0.gguf": tiny_model.read_bytes()},
                 downloads=9000, likes=1, last_modified="2026-02-01T00:00:00.000Z")
    hub.add_repo("other-org/Liked-Chat-GGUF", {"liked.Q5_K_M.gguf": tiny_model.read_bytes()},
                 downloads=10, likes=700, last_modified="2026-09-01T00:00:00.000Z")
    hub.start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield hub
    hub.stop()
