"""A local Hub server with tiny GGUF repositories, and huggingface_hub pointed at it."""

from __future__ import annotations

import pytest

from tests.support.fake_hub import FakeHub
from tests.support.tiny_gguf import write_tiny_model

REPO = "hearth-test/Tiny-Chat-GGUF"


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
        "mmproj-tiny.gguf": b"GGUF" + b"\0" * 32,
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
