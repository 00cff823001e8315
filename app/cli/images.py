"""`hearth chat --image PHOTO [--image …] [--mmproj P]`: pictures read, checked and paired with a projector."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from app.chat.conversation import Conversation
from app.chat.images import MemoryImages
from app.chat.message import ImagePart
from app.cli.common import CliError
from app.engine.protocol import IMAGE_MARKER, ChatMessage
from app.image_header import ImageError

NO_PROJECTOR = ("This model cannot see images: no image projector (mmproj) was found beside it; "
                "name one with --mmproj")


def add_image_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", action="append", default=[], metavar="PHOTO",
                        help="attach a picture (PNG, JPEG, GIF, BMP or WebP) to the message; repeat for several")
    parser.add_argument("--mmproj", default="",
                        help="the image projector GGUF to load with the model (default: the one beside it)")
    add_offload_arg(parser)


def add_offload_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-mmproj-offload", action="store_true",
                        help="keep the image projector on the CPU (default: on the GPU where there is one)")


def plan_projector(args: argparse.Namespace):  # -> GGUFInfo | None
    """`hearth plan`'s projector: --mmproj, else the one paired with the model; None for a text model."""
    from app.library.gguf_info import GGUFFileError, read_gguf_info
    from app.library.projector import pair_projector

    path = Path(args.mmproj).expanduser() if args.mmproj else pair_projector(args.model)
    if path is None:
        return None
    try:
        return read_gguf_info(path)
    except (GGUFFileError, OSError) as exc:
        raise CliError(f"the image projector {path}: {exc}") from None


def read_images(names: list[str], bank: MemoryImages) -> list[ImagePart]:
    """The --image files read and checked into `bank`, in order; CliError names a file that cannot be used."""
    parts = []
    for name in names:
        try:
            data = Path(name).expanduser().read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read the image {name}: {exc.strerror or exc}") from None
        try:
            parts.append(bank.add(data, Path(name).name))
        except ImageError as exc:
            raise CliError(f"{name}: {exc}") from None
    return parts


def attach_images(args: argparse.Namespace, conversation: Conversation) -> None:
    """Put the --image files after the prompt's text in its one user message, bytes held in memory: as the
    chat window sends a message with pictures (Conversation.add_user) and `hearth prompt --image` shows it."""
    if not args.image:
        return
    bank = MemoryImages()
    parts = read_images(args.image, bank)
    message = conversation.messages[-1]
    conversation.messages[-1] = replace(message, parts=message.parts + tuple(parts))
    conversation.images = bank.read


def projector_for(args: argparse.Namespace) -> str:
    """The projector to load: --mmproj, or with --image the one paired with the model in its folder."""
    if args.mmproj:
        if not Path(args.mmproj).expanduser().is_file():
            raise CliError(f"the image projector {args.mmproj} does not exist")
        return str(Path(args.mmproj).expanduser())
    if not args.image or not args.model:
        return ""
    from app.library.projector import pair_projector

    found = pair_projector(args.model)
    if found is None:
        raise CliError(NO_PROJECTOR)
    return str(found)


def without_images(messages: list[ChatMessage]) -> list[ChatMessage]:
    """The same conversation with its images left out (their tokens are the difference in counts)."""
    return [replace(m, content=m.content.replace(IMAGE_MARKER, ""), images=()) for m in messages]
