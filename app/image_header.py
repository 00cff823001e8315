"""What kind of picture a file holds and how big it is, read from its header alone.

Everything that takes an image (the composer, `hearth chat --image`, the API server, the engine)
checks it here first, so a damaged, huge or non-image file gets one clear sentence before any
decoder spends memory on it: a 20000x20000 PNG is a few kilobytes on disk and over a gigabyte
decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_SIDE = 8192  # pixels on either side
MAX_PIXELS = 40_000_000  # about 160 MB decoded as RGBA: the most one image may take
MAX_BYTES = 32 * 1024 * 1024  # the file itself


# What llama.cpp's image helper decodes (stb_image); WebP only where it was built with ffmpeg, which the
# installed wheel is not: the chat window converts WebP to PNG itself, the CLI and the API say so.
MODEL_READS = ("image/png", "image/jpeg", "image/gif", "image/bmp")
WEBP_REFUSED = "WebP pictures cannot be read by llama.cpp here: save it as PNG or JPEG and send that."


class ImageError(ValueError):
    """The file is not an image Hearth can use; the message is one sentence for the user."""


@dataclass(frozen=True)
class ImageHeader:
    mime: str
    width: int
    height: int


def read_header(data: bytes) -> ImageHeader:
    """The image's type and size, or ImageError with the reason; nothing is decoded."""
    if not data:
        raise ImageError("The image file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The image is too large ({len(data) // (1024 * 1024)} MB; at most "
                         f"{MAX_BYTES // (1024 * 1024)} MB).")
    header = _png(data) or _jpeg(data) or _gif(data) or _bmp(data) or _webp(data)
    if header is None:
        raise ImageError("This file is not a picture Hearth can read (PNG, JPEG, GIF, BMP or WebP).")
    if header.width <= 0 or header.height <= 0:
        raise ImageError("The image is damaged: its header gives no size.")
    if max(header.width, header.height) > MAX_SIDE or header.width * header.height > MAX_PIXELS:
        raise ImageError(f"The image is too big ({header.width}x{header.height} pixels; at most "
                         f"{MAX_SIDE} pixels a side).")
    return header


def _png(data: bytes) -> ImageHeader | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("The PNG image is damaged.")
    width, height = struct.unpack(">II", data[16:24])
    return ImageHeader("image/png", width, height)


def _gif(data: bytes) -> ImageHeader | None:
    if not data.startswith((b"GIF87a", b"GIF89a")):
        return None
    if len(data) < 10:
        raise ImageError("The GIF image is damaged.")
    width, height = struct.unpack("<HH", data[6:10])
    return ImageHeader("image/gif", width, height)


def _bmp(data: bytes) -> ImageHeader | None:
    if not data.startswith(b"BM"):
        return None
    if len(data) < 26:
        raise ImageError("The BMP image is damaged.")
    width, height = struct.unpack("<ii", data[18:26])
    return ImageHeader("image/bmp", abs(width), abs(height))


def _webp(data: bytes) -> ImageHeader | None:
    if not (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return None
    kind = data[12:16]
    if kind == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageHeader("image/webp", width, height)
    if kind == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return ImageHeader("image/webp", width & 0x3FFF, height & 0x3FFF)
    if kind == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return ImageHeader("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    raise ImageError("The WebP image is damaged.")


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> ImageHeader | None:
    """Walk the JPEG's segments to its frame header (SOFn), which holds the size."""
    if not data.startswith(b"\xff\xd8"):
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return ImageHeader("image/jpeg", width, height)
        if length < 2:
            break
        pos += 2 + length
    raise ImageError("The JPEG image is damaged: no frame header was found.")


def check_model_reads(mime: str) -> None:
    """ImageError (one sentence) when llama.cpp cannot decode this kind of picture."""
    if mime not in MODEL_READS:
        raise ImageError(WEBP_REFUSED)
