"""Images in the engine: a generated vision model and projector (tests/support/tiny_vision.py),
counted and answered exactly as llama-server (`--mmproj`) counts and answers them."""

from __future__ import annotations

import base64
from dataclasses import replace

import httpx
import pytest

from app.engine.protocol import IMAGE_MARKER, NO_VISION, ChatMessage, Done, EngineError, ErrorKind, LoadOptions
from app.engine.remote import RemoteEngine
from app.engine.runtime import LoadedModel
from app.engine.sampling import SamplingParams
from tests.support.servers import LlamaServer, llama_server_binary
from tests.support.tiny_vision import IMAGE_TOKENS, png_bytes, webp_bytes, write_tiny_vision_pair

QUESTION = "What is in this picture?"
GREEDY = SamplingParams(temperature=0.0, max_tokens=8)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return write_tiny_vision_pair(tmp_path_factory.mktemp("vision"))


@pytest.fixture(scope="module")
def vision_model(pair):
    model, projector = pair
    loaded = LoadedModel(LoadOptions(path=str(model), n_ctx=512, mmproj=str(projector)))
    yield loaded
    loaded.close()


def ask(image: bytes, text: str = QUESTION) -> tuple[ChatMessage, ...]:
    return (ChatMessage("user", IMAGE_MARKER + text, images=(image,)),)


def test_image_tokens_are_counted_as_the_engine_evaluates_them(vision_model):
    text_only = vision_model.count((ChatMessage("user", QUESTION),))
    with_image = vision_model.count(ask(png_bytes()))
    assert with_image == text_only + IMAGE_TOKENS
    assert vision_model.count_tokens(ask(png_bytes())) == with_image  # the count thread agrees
    reply = vision_model.generate(ask(png_bytes()), GREEDY, lambda text, n: None)
    assert reply.stats.prompt_tokens == with_image
    assert reply.stats.completion_tokens == 8


def test_a_second_turn_reuses_the_cache_past_the_image(vision_model):
    first = ask(png_bytes(seed=5))
    reply = vision_model.generate(first, GREEDY, lambda text, n: None)
    second = (*first, ChatMessage("assistant", reply.text), ChatMessage("user", "And now?"))
    again = vision_model.generate(second, GREEDY, lambda text, n: None)
    assert again.stats.cached_tokens > IMAGE_TOKENS


def test_the_image_changes_the_reply(vision_model):
    replies = {vision_model.generate(ask(png_bytes(seed=s)), GREEDY, lambda text, n: None).text for s in (1, 2, 3)}
    assert len(replies) > 1


@pytest.mark.parametrize("data, words", [
    (b"not a picture at all", "not a picture"),
    (png_bytes()[:20], "damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (20000).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00",
     "too big"),
    (png_bytes()[:60] + b"\x00" * 40, "damaged"),
    (webp_bytes(), "WebP pictures cannot be read by llama.cpp here"),
])
def test_bad_images_get_one_sentence_and_the_model_goes_on(vision_model, data, words):
    with pytest.raises(EngineError) as caught:
        vision_model.generate(ask(data), GREEDY, lambda text, n: None)
    assert caught.value.kind == ErrorKind.BAD_REQUEST
    assert words in str(caught.value)
    assert vision_model.generate(ask(png_bytes()), GREEDY, lambda text, n: None).stats.completion_tokens == 8


def test_a_text_only_model_cannot_see_images(pair):
    model, _ = pair
    loaded = LoadedModel(LoadOptions(path=str(model), n_ctx=256))
    try:
        with pytest.raises(EngineError, match=NO_VISION):
            loaded.count(ask(png_bytes()))
    finally:
        loaded.close()


def test_a_missing_projector_is_named(pair, tmp_path):
    model, _ = pair
    with pytest.raises(EngineError) as caught:
        LoadedModel(LoadOptions(path=str(model), n_ctx=256, mmproj=str(tmp_path / "gone.gguf")))
    assert caught.value.kind == ErrorKind.MISSING_FILE


def test_count_and_greedy_reply_equal_llama_servers_mmproj(pair, vision_model):
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    model, projector = pair
    server = LlamaServer(binary, model, ctx=512)
    server.cmd += ["--mmproj", str(projector), "--jinja", "--no-mmproj-offload"]
    server.start()
    try:
        for seed in (3, 4):
            image = png_bytes(seed=seed)
            url = "data:image/png;base64," + base64.b64encode(image).decode()
            own = httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                                          {"type": "text", "text": QUESTION}]}],
                "max_tokens": 8, "temperature": 0, "cache_prompt": False}).json()
            reply = vision_model.generate(ask(image), GREEDY, lambda text, n: None)
            assert reply.stats.prompt_tokens == own["usage"]["prompt_tokens"] == vision_model.count(ask(image))
            assert reply.text == own["choices"][0]["message"]["content"]
        with RemoteEngine(server.url) as remote:  # a remote engine sends the image as a content part
            remote.load(LoadOptions(path=""))
            done = list(remote.chat(list(ask(image)), replace(GREEDY, repeat_penalty=1.0, top_k=0, min_p=0.0)))[-1]
        assert isinstance(done, Done) and done.stats.prompt_tokens == own["usage"]["prompt_tokens"]
    finally:
        server.stop()
