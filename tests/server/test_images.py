"""Images through `hearth serve`'s API and `hearth chat --image`, with the generated vision model."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app import cli
from app.engine import EngineClient, LoadOptions
from app.server import images as server_images
from app.server.app import create_app
from tests.support.servers import uvicorn_thread
from tests.support.tiny_vision import IMAGE_TOKENS, png_bytes, webp_bytes, write_tiny_vision_pair

GREEDY = {"temperature": 0, "max_tokens": 6, "repeat_penalty": 1.1, "top_k": 40, "top_p": 0.95, "min_p": 0.05}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return write_tiny_vision_pair(tmp_path_factory.mktemp("vision-api"))


@pytest.fixture(scope="module")
def served(pair):
    """Hearth's API over the tiny vision model (projector loaded) and over the same model without one."""
    model, projector = pair
    with EngineClient() as engine:
        info = engine.load(LoadOptions(path=str(model), n_ctx=512, mmproj=str(projector)))
        app = create_app(engine, "tiny-vision", sees_images=lambda: bool(info.mmproj))
        with uvicorn_thread(app) as url:
            yield url


def image_message(url: str, text: str = "What is in this picture?") -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": text},  # (as the chat and `hearth chat` send it)
                                         {"type": "image_url", "image_url": {"url": url}}]}]


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def test_an_image_data_url_is_answered_with_its_tokens_counted(served, pair, capsys, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    answer = httpx.post(served + "/v1/chat/completions", timeout=60,
                        json={"messages": image_message(data_url(png_bytes())), **GREEDY})
    assert answer.status_code == 200, answer.text
    # `hearth chat --image` pairs the projector beside the model by itself and says how many tokens the image took
    code = cli.main(["chat", "What is in this picture?", "--model", str(pair[0]), "--image", str(photo), "--ctx", "512",
                     "--gpu-layers", "0", "--temperature", "0", "--max-tokens", "6", "--json"])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["image_tokens"] == IMAGE_TOKENS
    assert got["prompt_tokens"] == answer.json()["usage"]["prompt_tokens"]
    assert got["reply"] == answer.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("url, words", [
    ("https://example.com/cat.png", "--allow-image-urls"),
    ("data:image/png;base64,@@@", "not valid base64"),
    (data_url(b"plain text, not a picture", "text/plain"), "not a picture"),
    (data_url(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + (20000).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00"),
     "too big"),
    (data_url(webp_bytes(), "image/webp"), "save it as PNG or JPEG"),
])
def test_bad_images_get_a_400_with_one_sentence(served, url, words):
    answer = httpx.post(served + "/v1/chat/completions", timeout=60, json={"messages": image_message(url), **GREEDY})
    assert answer.status_code == 400
    assert words in answer.json()["error"]["message"]
    assert httpx.post(served + "/v1/chat/completions", timeout=60,
                      json={"messages": image_message(data_url(png_bytes())), **GREEDY}).status_code == 200


def test_a_text_only_model_answers_400(pair):
    model, _ = pair
    with EngineClient() as engine:
        engine.load(LoadOptions(path=str(model), n_ctx=256))
        for sees in (lambda: False, None):  # told up front, or the engine says so
            app = create_app(engine, "tiny", sees_images=sees)
            with uvicorn_thread(app) as url:
                answer = httpx.post(url + "/v1/chat/completions", timeout=60,
                                    json={"messages": image_message(data_url(png_bytes())), **GREEDY})
            assert answer.status_code == 400
            assert answer.json()["error"]["message"] == "This model cannot see images"


def test_hearth_chat_refuses_a_bad_image_or_a_model_without_projector(tmp_path, capsys, tiny_model):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert cli.main(["chat", "hi", "--model", str(tiny_model), "--image", str(bad)]) == 2
    assert "not a picture" in capsys.readouterr().err
    webp = tmp_path / "photo.webp"
    webp.write_bytes(webp_bytes())
    assert cli.main(["chat", "hi", "--model", str(tiny_model), "--image", str(webp)]) == 2
    err = capsys.readouterr().err
    assert "WebP pictures cannot be read" in err and err.count("\n") == 1
    good = tmp_path / "photo.png"
    good.write_bytes(png_bytes())
    assert cli.main(["chat", "hi", "--model", str(tiny_model), "--image", str(good)]) == 2
    assert "cannot see images" in capsys.readouterr().err


@contextmanager
def slow_image_host(delay_s: float, trickle: bool = False):
    """A local web server that answers a picture after `delay_s` (or, with `trickle`, sends it a byte at a
    time, `delay_s` apart): a slow image host."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = png_bytes()
            if not trickle:
                time.sleep(delay_s)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                if trickle:
                    time.sleep(delay_s)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cat.png"
    finally:
        server.shutdown()
        server.server_close()


def test_a_slow_image_host_never_stalls_the_server(pair, monkeypatch):
    model, projector = pair
    with EngineClient() as engine:
        engine.load(LoadOptions(path=str(model), n_ctx=512, mmproj=str(projector)))
        app = create_app(engine, "tiny-vision", allow_image_urls=True, sees_images=lambda: True)
        with uvicorn_thread(app) as url, ThreadPoolExecutor(1) as pool:
            with slow_image_host(2.0) as image:
                asked = pool.submit(httpx.post, url + "/v1/chat/completions", timeout=30,
                                    json={"messages": image_message(image), **GREEDY})
                time.sleep(0.5)  # the fetch has begun
                started = time.monotonic()
                assert httpx.get(url + "/v1/models", timeout=5).status_code == 200
                assert time.monotonic() - started < 1.0  # answered while the picture is still coming
                assert asked.result().status_code == 200  # the picture came, within the deadline
            monkeypatch.setattr(server_images, "FETCH_DEADLINE_S", 1.0)
            with slow_image_host(0.1, trickle=True) as image:  # ~30 s to send: refused at the deadline
                started = time.monotonic()
                answer = httpx.post(url + "/v1/chat/completions", timeout=30,
                                    json={"messages": image_message(image), **GREEDY})
                assert answer.status_code == 400 and "took over 1 seconds" in answer.json()["error"]["message"]
                assert time.monotonic() - started < 5


def test_a_picture_over_4_mb_is_taken_by_a_model_that_sees_images(pair):
    model, projector = pair
    big = data_url(png_bytes(1200, 1200))  # a 4 MB photo: nearly 6 MB as a data: URL
    assert len(big) > 5 * 1024 * 1024
    with EngineClient() as engine:
        engine.load(LoadOptions(path=str(model), n_ctx=512, mmproj=str(projector)))
        for sees, status in ((None, 200), (lambda: False, 413)):  # (None: the engine says it has a projector)
            with uvicorn_thread(create_app(engine, "tiny-vision", sees_images=sees)) as url:
                answer = httpx.post(url + "/v1/chat/completions", timeout=60,
                                    json={"messages": image_message(big), **GREEDY})
            assert answer.status_code == status, answer.text
        message = answer.json()["error"]["message"]
        assert "over 4 MB" in message and "pictures" in message
