"""The file and decoding work behind the chat's pictures, run off the GUI thread (app/ui/tasks.py).

Reading a dropped or picked file, encoding a pasted one as PNG, checking its header, decoding its
thumbnail and writing it into the chats' image folder can each take long for a large picture, so
the GUI only starts them and shows the result. Only QImage is made here (QPixmap belongs to the GUI
thread). Nothing is decoded before its header is read (app/image_header.py): a huge or damaged file
gets one sentence, and the most any decode may take is bounded by the header's limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from app.chat.images import image_part
from app.chat.message import ImagePart
from app.image_header import MAX_BYTES, MODEL_READS, ImageError

THUMB = 72  # pixels, the longer side of a thumbnail
LARGE = 1600  # pixels, the longer side of the large view


@dataclass(frozen=True)
class Prepared:
    """A picture ready to attach: its part, bytes and thumbnail; `saved` once in the image folder."""

    part: ImagePart
    data: bytes
    thumb: QImage
    saved: bool = False


def decode_image(data: bytes, longest: int = 0) -> QImage:
    """The picture, scaled while decoding to `longest` pixels a side (0: full size); null when it cannot be."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if longest and size.isValid() and max(size.width(), size.height()) > longest:
        reader.setScaledSize(size.scaled(QSize(longest, longest), Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


def read_picture(path: str) -> tuple[bytes, str]:
    """A picked or dropped file's bytes; ImageError (one sentence) when it cannot be one."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_BYTES:
            raise ImageError(f"{file.name} is too large (at most {MAX_BYTES // (1024 * 1024)} MB).")
        data = file.read_bytes()
    except OSError as exc:
        raise ImageError(f"{file.name} could not be read: {exc.strerror or exc}.") from None
    return data, file.name


def png_of(image: QImage) -> bytes:
    """A pasted picture (the clipboard holds pixels, not a file) as PNG bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # (the stubs say bytes; PySide6 takes str)
    return bytes(data.data())


def prepare(data: bytes = b"", name: str = "", *, path: str = "", pasted: QImage | None = None,
            save: Callable[[bytes], str] | None = None) -> Prepared:
    """Bytes, a file or pasted pixels made ready to attach; ImageError (one sentence) when they cannot be.
    With `save`, the picture is written into the image folder now (a failure is left for sending to say)."""
    if path:
        data, name = read_picture(path)
    elif pasted is not None:
        data = png_of(pasted)
    try:
        part = image_part(data, name)
        if part.mime not in MODEL_READS:  # (WebP) as PNG, which llama.cpp reads: the header bounds the decode
            image = decode_image(data)
            if image.isNull():
                raise ImageError("it is damaged or in a form Hearth cannot show.")
            data = png_of(image)
            part = image_part(data, name)
    except ImageError as exc:
        raise ImageError(f"{name}: {exc}" if name else str(exc)) from None
    thumb = decode_image(data, THUMB)
    if thumb.isNull():
        raise ImageError(f"{name or 'The picture'}: it is damaged or in a form Hearth cannot show.")
    saved = False
    if save is not None:
        try:
            saved = save(data) == part.sha256
        except OSError:
            saved = False
    return Prepared(part, data, thumb, saved)
