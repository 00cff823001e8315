"""A real small vision model (e.g. SmolVLM-256M with its mmproj) answers about a picture, counting it as
llama-server does. It runs only where such a pair lies in the test models folder (~/.cache/hearth/
test-models or $HEARTH_TEST_MODELS), paired by the library's own rule; none could be had from the
package registries so far, so it skips cleanly elsewhere."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import httpx
import pytest

from app.engine.protocol import IMAGE_MARKER, ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams
from app.library.gguf_info import GGUFFileError, read_gguf_info
from app.library.projector import is_projector, pair_all
from tests.support import real_models
from tests.support.servers import LlamaServer, llama_server_binary

QUESTION = "What colour is this picture? Answer in one word."
GREEDY = SamplingParams(temperature=0.0, max_tokens=12, seed=1)
CTX = 2048


def real_pair() -> tuple[Path, Path] | None:
    """The first model and projector in the test models folder that the library pairs."""
    models, projectors = [], []
    folder = real_models.test_models_dir()
    for path in sorted(folder.rglob("*.gguf")) if folder.is_dir() else []:
        try:
            info = read_gguf_info(path)
        except (GGUFFileError, OSError):
            continue
        (projectors if is_projector(info) else models).append((path, info))
    pairs = pair_all(models, projectors) if projectors else {}
    return next(iter(pairs.items()), None)


def solid_png(rgb: tuple[int, int, int], side: int = 96) -> bytes:
    row = b"\x00" + bytes(rgb) * side

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * side))
            + chunk(b"IEND", b""))


def test_a_real_vision_model_answers_about_a_picture_and_counts_it_as_llama_server():
    found = real_pair()
    if found is None:
        pytest.skip(f"no real vision model and projector in {real_models.test_models_dir()}")
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    model_path, projector = found
    image = solid_png((220, 20, 20))
    messages = [ChatMessage("user", IMAGE_MARKER + QUESTION, images=(image,))]
    model = LoadedModel(LoadOptions(str(model_path), n_ctx=CTX, n_gpu_layers=0, mmproj=str(projector)))
    server = LlamaServer(binary, model_path, ctx=CTX)
    server.cmd += ["--mmproj", str(projector), "--jinja", "--no-mmproj-offload", "-ngl", "0"]
    server.start()
    try:
        url = "data:image/png;base64," + base64.b64encode(image).decode()
        theirs = httpx.post(server.url + "/v1/chat/completions", timeout=300, json={
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                                      {"type": "text", "text": QUESTION}]}],
            "max_tokens": 12, "temperature": 0, "cache_prompt": False}).json()
        ours = model.generate(messages, GREEDY, lambda text, n: None)
    finally:
        server.stop()
        model.close()
    assert ours.stats.prompt_tokens == theirs["usage"]["prompt_tokens"]
    assert ours.text.strip() and ours.text == theirs["choices"][0]["message"]["content"]
