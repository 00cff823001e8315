"""`hearth prompt` with pictures: each shown as `<image: N tokens>` where the template puts it, and the
total equal to what the engine evaluates for the same conversation."""

from __future__ import annotations

import base64
import json

import pytest

from app.cli import main
from app.engine.protocol import IMAGE_MARKER, ChatMessage, LoadOptions
from app.engine.runtime import LoadedModel
from tests.support.tiny_vision import IMAGE_TOKENS, png_bytes, write_tiny_vision_pair


@pytest.fixture
def pair(tmp_path):
    return write_tiny_vision_pair(tmp_path / "repo")


def test_the_prompt_marks_each_picture_and_counts_as_the_engine(pair, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    first = "data:image/png;base64," + base64.b64encode(png_bytes(seed=5)).decode()
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": first}},
                                             {"type": "text", "text": "And this?"}]},
                {"role": "assistant", "content": "A picture."},
                {"role": "user", "content": "What is in this picture?"}]
    path = tmp_path / "messages.json"
    path.write_text(json.dumps(messages), encoding="utf-8")
    assert main(["prompt", "--model", str(pair[0]), "--messages", str(path), "--image", str(photo), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["image_tokens"] == [IMAGE_TOKENS, IMAGE_TOKENS]
    marker = f"<image: {IMAGE_TOKENS} tokens>"
    assert out["prompt"].count(marker) == 2 and IMAGE_MARKER not in out["prompt"]
    assert out["prompt"].index(marker) < out["prompt"].index("And this?")  # where the template put it
    assert out["prompt"].rindex(marker) > out["prompt"].index("What is in this picture?")  # after its text

    model = LoadedModel(LoadOptions(str(pair[0]), n_ctx=512, mmproj=str(pair[1])))
    try:
        engine_count = model.count([
            ChatMessage("user", IMAGE_MARKER + "And this?", images=(png_bytes(seed=5),)),
            ChatMessage("assistant", "A picture."),
            ChatMessage("user", "What is in this picture?" + IMAGE_MARKER, images=(png_bytes(),))])
    finally:
        model.close()
    assert out["prompt_tokens"] == engine_count

    assert main(["prompt", "--model", str(pair[0]), "--messages", str(path), "--image", str(photo)]) == 0
    captured = capsys.readouterr()
    assert marker in captured.out and f"{engine_count} prompt tokens, {2 * IMAGE_TOKENS} of them for 2 images" \
        in captured.err


def test_a_text_model_or_a_bad_picture_is_one_line(tiny_model, tmp_path, capsys):
    path = tmp_path / "messages.json"
    path.write_text(json.dumps([{"role": "user", "content": "hi"}]), encoding="utf-8")
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    assert main(["prompt", "--model", str(tiny_model), "--messages", str(path), "--image", str(photo)]) == 2
    assert "cannot see images" in capsys.readouterr().err
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    assert main(["prompt", "--model", str(tiny_model), "--messages", str(path), "--image", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a picture" in err and err.count("\n") == 1
