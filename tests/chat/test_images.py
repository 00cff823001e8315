"""Images as parts of a message: what the engine is given, and the projector paired with its model."""

from __future__ import annotations

import pytest

from app.chat.conversation import Conversation
from app.chat.images import MemoryImages
from app.chat.message import Message
from app.engine.protocol import IMAGE_MARKER, ChatMessage
from app.image_header import ImageError, read_header
from app.library.projector import pair_projector
from tests.support.tiny_gguf import write_tiny_model
from tests.support.tiny_vision import png_bytes, write_tiny_projector, write_tiny_vision_pair


def test_the_engine_gets_the_images_where_they_stand():
    bank = MemoryImages()
    picture = bank.add(png_bytes(), "photo.png")
    assert (picture.width, picture.height, picture.mime, picture.name) == (24, 20, "image/png", "photo.png")
    conversation = Conversation.of([Message.plain("user", "What is this?")])
    conversation.add_user("And this?", attached=[picture])
    conversation.images = bank.read
    history = conversation.history()
    assert history[-1] == ChatMessage("user", "And this?" + IMAGE_MARKER, images=(png_bytes(),))
    assert history[0] == ChatMessage("user", "What is this?")
    conversation.images = None  # without the bytes, only the text goes
    assert conversation.history()[-1] == ChatMessage("user", "And this?")


def test_typed_markers_stay_plain_text():
    message = Message.plain("user", f"a{IMAGE_MARKER}b")
    assert message.to_engine(MemoryImages().read).content == "ab"


@pytest.mark.parametrize("data, words", [
    (b"", "empty"), (b"GIF89a\x00", "damaged"), (b"\xff\xd8\xff\xe0\x00\x10JFIF", "damaged"),
    (b"BM" + b"\x00" * 16 + (30000).to_bytes(4, "little") * 2, "too big"), (b"%PDF-1.7", "not a picture"),
])
def test_headers_say_what_is_wrong_in_one_sentence(data, words):
    with pytest.raises(ImageError, match=words):
        read_header(data)


def test_jpeg_and_gif_sizes_come_from_their_headers():
    size = (480).to_bytes(2, "big") + (640).to_bytes(2, "big")
    jpeg = b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + b"\xff\xc0\x00\x11\x08" + size
    assert read_header(jpeg).width == 640 and read_header(jpeg).height == 480
    assert read_header(b"GIF89a" + (7).to_bytes(2, "little") + (9).to_bytes(2, "little")).height == 9


def test_a_projector_is_found_by_its_header_and_paired(tmp_path):
    model, projector = write_tiny_vision_pair(tmp_path / "repo")
    assert pair_projector(model) == projector
    assert pair_projector(write_tiny_model(tmp_path / "alone" / "text.gguf")) is None
    # with several, the one whose name is closest to the model's wins
    write_tiny_projector(tmp_path / "repo" / "mmproj-other-model-f16.gguf")
    assert pair_projector(model) == projector
    # a projector for a model of another width is not paired with it
    assert pair_projector(write_tiny_model(tmp_path / "repo" / "wide.gguf", n_embd=128, n_head=4)) is None
    # a projector is known by its header, whatever its name
    odd = write_tiny_projector(tmp_path / "odd" / "vision-part.gguf")
    assert pair_projector(write_tiny_model(tmp_path / "odd" / "model.gguf")) == odd


def test_hearth_chat_and_hearth_prompt_put_the_picture_where_the_chat_window_does(tmp_path):
    import argparse

    from app.chat.conversation import with_attached
    from app.cli.images import attach_images
    from app.cli.prompt_images import attach_files

    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    window, _ = with_attached([], "What is this?", (png_bytes(),))  # what the chat window sends (and counts)
    chat = Conversation.of([Message.plain("user", "What is this?")])
    attach_images(argparse.Namespace(image=[str(photo)]), chat)
    prompt = Conversation.of([Message.plain("user", "What is this?")])
    bank = MemoryImages()
    attach_files([str(photo)], prompt, bank)
    prompt.images = bank.read
    assert chat.history() == prompt.history() == window
    assert window[0].content == "What is this?" + IMAGE_MARKER
