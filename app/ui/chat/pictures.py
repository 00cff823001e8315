"""Pictures in the chat: thumbnails (in the composer and in messages), a larger view on click, and
turning what the user pastes, drops or picks into checked image bytes.

Nothing is decoded before its header is read (app/image_header.py): a huge or damaged file gets one
sentence. Thumbnails are decoded at thumbnail size through QImageReader, and kept (a few dozen).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QImage, QImageReader, QMouseEvent, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from app.chat.images import image_part
from app.chat.message import ImagePart
from app.image_header import MAX_BYTES, ImageError

THUMB = 72  # pixels, the longer side of a thumbnail
KEPT = 64
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")


def decode(data: bytes, longest: int = 0) -> QPixmap:
    """The picture as a pixmap, scaled while decoding to `longest` pixels a side (0: full size)."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if longest and size.isValid() and max(size.width(), size.height()) > longest:
        reader.setScaledSize(size.scaled(QSize(longest, longest), Qt.AspectRatioMode.KeepAspectRatio))
    return QPixmap.fromImage(reader.read())


class Thumbnails:
    """Thumbnails of stored pictures by SHA-256, read through `source` (the store's image folder)."""

    def __init__(self) -> None:
        self.source: Callable[[str], bytes] | None = None
        self._kept: OrderedDict[str, QPixmap] = OrderedDict()

    def remember(self, sha256: str, data: bytes) -> QPixmap:
        pixmap = decode(data, THUMB)
        self._kept[sha256] = pixmap
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return pixmap

    def get(self, sha256: str) -> QPixmap | None:
        if sha256 in self._kept:
            self._kept.move_to_end(sha256)
            return self._kept[sha256]
        if self.source is None:
            return None
        try:
            return self.remember(sha256, self.source(sha256))
        except (KeyError, OSError):
            return None  # the file is gone: the message says so instead of a picture


THUMBNAILS = Thumbnails()  # one per process: the chat page points it at its store


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


def pictures_in(mime: QMimeData) -> list[str] | QImage | None:
    """What a paste or drop holds that is a picture: image files (paths), pixels, or None."""
    files = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    pictures = [f for f in files if f.lower().endswith(IMAGE_SUFFIXES)]
    if pictures:
        return pictures
    if mime.hasImage():
        image = mime.imageData()
        return image if isinstance(image, QImage) and not image.isNull() else None
    return None


class Thumbnail(QLabel):
    """One picture, small; a click shows it large."""

    def __init__(self, part: ImagePart, pixmap: QPixmap | None, removable: bool = False,
                 on_remove: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.part = part
        self.setFixedSize(THUMB + 4, THUMB + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setObjectName("thumbnail")
        self.setAccessibleName(f"Picture {part.name or ''} {part.width}x{part.height}".replace("  ", " "))
        self.setToolTip(f"{part.name or 'Picture'} · {part.width}×{part.height} — click to view")
        if pixmap is not None and not pixmap.isNull():
            self.setPixmap(pixmap)
        else:
            self.setText("(picture\nmissing)")
        if removable and on_remove is not None:
            remove = QToolButton(self)
            remove.setText("×")
            remove.setToolTip("Remove this picture")
            remove.setAccessibleName("Remove picture")
            remove.setAutoRaise(True)
            remove.move(THUMB - 14, 0)
            remove.clicked.connect(on_remove)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            show_large(self, self.part)
        super().mousePressEvent(event)


def show_large(parent: QWidget, part: ImagePart, data: bytes | None = None) -> None:
    if data is None and THUMBNAILS.source is not None:
        try:
            data = THUMBNAILS.source(part.sha256)
        except (KeyError, OSError):
            data = None
    dialog = QDialog(parent)
    dialog.setWindowTitle(part.name or "Picture")
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    pixmap = decode(data, 1600) if data else QPixmap()
    if pixmap.isNull():
        label.setText("This picture is no longer in the data folder.")
    else:
        label.setPixmap(pixmap)
    scroll = QScrollArea()
    scroll.setWidget(label)
    scroll.setWidgetResizable(True)
    layout = QVBoxLayout(dialog)
    layout.addWidget(scroll)
    dialog.resize(min(pixmap.width() + 40, 1200) if not pixmap.isNull() else 400,
                  min(pixmap.height() + 40, 900) if not pixmap.isNull() else 200)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()


class PictureStrip(QWidget):
    """A row of thumbnails (a message's pictures); hidden when there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 2, 0, 2)
        self._row.addStretch(1)
        self._shown: tuple[str, ...] = ()
        self.setVisible(False)

    def set_pictures(self, parts: tuple[ImagePart, ...]) -> None:
        key = tuple(p.sha256 for p in parts)
        if key == self._shown:
            return
        self._shown = key
        while self._row.count() > 1:
            item = self._row.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        for n, part in enumerate(parts):
            self._row.insertWidget(n, Thumbnail(part, THUMBNAILS.get(part.sha256)))
        self.setVisible(bool(parts))


class Attachments(QWidget):
    """The pictures attached to the message being written: thumbnails with ×, checked when added."""

    changed = Signal()
    refused = Signal(str)  # one sentence: why a picture was not attached

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(12, 0, 12, 0)
        self._row.addStretch(1)
        self._pictures: list[tuple[ImagePart, bytes]] = []
        self.setVisible(False)

    def add(self, data: bytes, name: str = "") -> bool:
        try:
            part = image_part(data, name)
        except ImageError as exc:
            self.refused.emit(f"{name}: {exc}" if name else str(exc))
            return False
        if decode(data, THUMB).isNull():
            self.refused.emit(f"{name or 'The picture'}: it is damaged or in a form Hearth cannot show.")
            return False
        THUMBNAILS.remember(part.sha256, data)
        self._pictures.append((part, data))
        self._refresh()
        return True

    def add_mime(self, mime: QMimeData) -> bool:
        """A paste or drop: True when it held pictures (attached, or refused with a sentence)."""
        found = pictures_in(mime)
        if found is None:
            return False
        if isinstance(found, QImage):
            self.add(png_of(found), "pasted.png")
            return True
        for path in found:
            try:
                data, name = read_picture(path)
            except ImageError as exc:
                self.refused.emit(str(exc))
                continue
            self.add(data, name)
        return True

    def pictures(self) -> list[tuple[ImagePart, bytes]]:
        return list(self._pictures)

    def take(self) -> list[tuple[ImagePart, bytes]]:
        taken, self._pictures = self._pictures, []
        self._refresh()
        return taken

    def restore(self, pictures: list[tuple[ImagePart, bytes]]) -> None:
        self._pictures = list(pictures) + self._pictures
        self._refresh()

    def _remover(self, index: int) -> Callable[[], None]:
        def remove() -> None:
            del self._pictures[index]
            self._refresh()

        return remove

    def _refresh(self) -> None:
        while self._row.count() > 1:
            item = self._row.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        for n, (part, _data) in enumerate(self._pictures):
            thumb = Thumbnail(part, THUMBNAILS.get(part.sha256), removable=True,
                              on_remove=self._remover(n))
            self._row.insertWidget(n, thumb)
        self.setVisible(bool(self._pictures))
        self.changed.emit()
