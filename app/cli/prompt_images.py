"""`hearth prompt` with pictures: where each image goes in the prompt and how many tokens it takes.

The rendered prompt shows each picture as `<image: N tokens>` where the template put it, N being
the positions libmtmd gives it (its tokens, and any text it adds around them), so the total equals
what `hearth chat --image` evaluates. Only the vocabulary and the projector are loaded (no weights).
Pictures come from `--image PHOTO` (added to the last user message) or, in the messages file, as
OpenAI content parts: `{"type": "image_url", "image_url": {"url": "data:image/png;base64,…"}}`.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.chat.conversation import Conversation
from app.chat.images import MemoryImages
from app.chat.message import Part, TextPart
from app.cli.common import CliError
from app.cli.images import read_images
from app.engine.protocol import IMAGE_MARKER, ChatMessage


def add_prompt_image_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", action="append", default=[], metavar="PHOTO",
                        help="a picture added to the last user message; repeat for several")
    parser.add_argument("--mmproj", default="",
                        help="the image projector GGUF (default: the one paired with the model)")


def content_parts(content: list[Any], bank: MemoryImages, where: str) -> list[Part]:
    """A message's OpenAI content parts (text and image_url data: URLs) as parts; CliError when wrong."""
    from app.server.images import ImageRefused, image_from_part

    parts: list[Part] = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            parts.append(TextPart(part["text"]))
        elif isinstance(part, dict) and part.get("type") == "image_url":
            try:
                parts.append(image_from_part(part, bank, allow_urls=False))
            except ImageRefused as exc:
                raise CliError(f"{where}: {exc}") from None
        else:
            raise CliError(f"{where}: only text and image_url content parts are supported")
    return parts


def attach_files(names: list[str], conversation: Conversation, bank: MemoryImages) -> None:
    """The --image files, after the text of the last user message."""
    if not names:
        return
    index = next((i for i in range(len(conversation.messages) - 1, -1, -1)
                  if conversation.messages[i].role == "user"), None)
    if index is None:
        raise CliError("--image needs a user message to attach the picture to")
    parts = read_images(names, bank)
    message = conversation.messages[index]
    conversation.messages[index] = replace(message, parts=message.parts + tuple(parts))


def projector_path(args: argparse.Namespace) -> str:
    if args.mmproj:
        if not Path(args.mmproj).expanduser().is_file():
            raise CliError(f"the image projector {args.mmproj} does not exist")
        return str(Path(args.mmproj).expanduser())
    from app.library.projector import pair_projector

    found = pair_projector(args.model)
    if found is None:
        raise CliError("This model cannot see images: no image projector (mmproj) was found beside it; "
                       "name one with --mmproj")
    return str(found)


def encode_with_images(model: Any, encoder: Any, projector: str, messages: list[ChatMessage],
                       thinking: str) -> tuple[str, int, list[int]]:
    """(the prompt with `<image: N tokens>` where each picture goes, all its tokens, each picture's count)."""
    from app.engine.vision import Vision, encode_prompt

    vision = Vision(projector, model, False, 1)
    try:
        segments = encoder.segments(messages, thinking)
        text, tokens = encode_prompt(vision, encoder, segments, messages)
        counts = [len(vision.image_tokens(image)) for message in messages for image in message.images]
    finally:
        vision.close()
    for count in counts:
        text = text.replace(IMAGE_MARKER, f"<image: {count} tokens>", 1)
    return text, len(tokens), counts
