"""Pictures in the chat: thumbnails (in the composer and in messages), a larger view on click, and
turning what the user pastes, drops or picks into checked image bytes.

Every file read, PNG encoding and decode runs off the GUI thread (picture_work.py through the chat
page's BackgroundTasks): a picture appears once it is ready, a stored one's thumbnail once it is
read, and the large view once it is decoded. Thumbnails are kept (a few dozen).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from app.chat.message import ImagePart
from app.image_header import ImageError
from app.ui.chat.picture_work import LARGE, THUMB, Prepared, decode_image, prepare
from app.ui.tasks import BackgroundTasks

KEPT = 64
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
MISSING = "(picture\nmissing)"


def run(tasks: BackgroundTasks | None, job: Callable[[], Any], done: Callable[[Any], None],
        failed: Callable[[Exception], None]) -> None:
    """`job` on `tasks` (off the GUI thread; nothing once quitting has begun), or at once where there
    are none (a widget shown alone)."""
    if tasks is not None:
        try:
            tasks.run(job, done, failed)
            return
        except RuntimeError:  # the window that owned those tasks is gone: at once instead
            pass
    try:
        result = job()
    except Exception as exc:  # noqa: BLE001 - handed to `failed`, as the tasks would
        failed(exc)
        return
    done(result)


class Thumbnails(QObject):
    """Thumbnails of stored pictures by SHA-256, read through `source` (the store's image folder) off
    the GUI thread; `ready(sha256)` when one is in (or known to be gone)."""

    ready = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.source: Callable[[str], bytes] | None = None
        self.tasks: BackgroundTasks | None = None
        self._kept: OrderedDict[str, QPixmap] = OrderedDict()
        self._loading: set[str] = set()
        self._gone: set[str] = set()

    def remember(self, sha256: str, pixmap: QPixmap) -> QPixmap:
        self._kept[sha256] = pixmap
        self._gone.discard(sha256)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return pixmap

    def get(self, sha256: str) -> QPixmap | None:
        """The thumbnail if it is in; else None, and it is read (`ready` says when)."""
        if sha256 in self._kept:
            self._kept.move_to_end(sha256)
            return self._kept[sha256]
        source = self.source
        if source is None or sha256 in self._gone or sha256 in self._loading:
            return None
        self._loading.add(sha256)
        run(self.tasks, lambda: decode_image(source(sha256), THUMB), lambda image: self._read(sha256, image),
            lambda _error: self._read(sha256, QImage()))
        return self._kept.get(sha256)

    def loading(self, sha256: str) -> bool:
        return sha256 in self._loading

    def _read(self, sha256: str, image: QImage) -> None:
        self._loading.discard(sha256)
        if image.isNull():
            self._gone.add(sha256)  # gone or unreadable: the message says so instead of a picture
        else:
            self.remember(sha256, QPixmap.fromImage(image))
        self.ready.emit(sha256)


THUMBNAILS = Thumbnails()  # one per process: the chat page points it at its store and its tasks


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
        elif THUMBNAILS.loading(part.sha256):
            self.setText("…")
            THUMBNAILS.ready.connect(self._ready)
        else:
            self.setText(MISSING)
        if removable and on_remove is not None:
            remove = QToolButton(self)
            remove.setText("×")
            remove.setToolTip("Remove this picture")
            remove.setAccessibleName("Remove picture")
            remove.setAutoRaise(True)
            remove.move(THUMB - 14, 0)
            remove.clicked.connect(on_remove)

    def _ready(self, sha256: str) -> None:
        if sha256 != self.part.sha256:
            return
        THUMBNAILS.ready.disconnect(self._ready)
        pixmap = THUMBNAILS.get(sha256)
        if pixmap is not None and not pixmap.isNull():
            self.setPixmap(pixmap)
        else:
            self.setText(MISSING)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            show_large(self, self.part)
        super().mousePressEvent(event)


def show_large(parent: QWidget, part: ImagePart, data: bytes | None = None) -> None:
    """The picture at up to LARGE pixels a side, in a window of its own, once it is read and decoded."""
    source = THUMBNAILS.source

    def work() -> QImage:
        if data is not None:
            return decode_image(data, LARGE)
        if source is None:
            return QImage()
        return decode_image(source(part.sha256), LARGE)

    run(THUMBNAILS.tasks, work, lambda image: _show_large(parent, part, image),
        lambda _error: _show_large(parent, part, QImage()))


def _show_large(parent: QWidget, part: ImagePart, image: QImage) -> None:
    dialog = QDialog(parent)
    dialog.setWindowTitle(part.name or "Picture")
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    pixmap = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
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
    """The pictures attached to the message being written: thumbnails with ×, checked when added.

    Adding starts the work off the GUI thread (`tasks`, set by the chat page; at once without them);
    `reading` counts pictures still being read, and `changed` follows each one that comes in. With
    `save` (the store's), each picture is also written into the image folder there: `saved` lists them.
    """

    changed = Signal()
    refused = Signal(str)  # one sentence: why a picture was not attached

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(12, 0, 12, 0)
        self._row.addStretch(1)
        self._pictures: list[tuple[ImagePart, bytes]] = []
        self.tasks: BackgroundTasks | None = None
        self.save: Callable[[bytes], str] | None = None
        self.saved: set[str] = set()
        self.reading = 0
        self.setVisible(False)

    def add(self, data: bytes, name: str = "") -> None:
        save = self.save
        self._prepare(lambda: prepare(data, name, save=save))

    def add_file(self, path: str) -> None:
        save = self.save
        self._prepare(lambda: prepare(path=path, save=save))

    def add_mime(self, mime: QMimeData) -> bool:
        """A paste or drop: True when it held pictures (each attached, or refused with a sentence, once read)."""
        found = pictures_in(mime)
        if found is None:
            return False
        if isinstance(found, QImage):
            pasted, save = found.copy(), self.save  # (its own pixels: the clipboard may change meanwhile)
            self._prepare(lambda: prepare(name="pasted.png", pasted=pasted, save=save))
            return True
        for path in found:
            self.add_file(path)
        return True

    def _prepare(self, job: Callable[[], Prepared]) -> None:
        self.reading += 1
        run(self.tasks, job, self._added, self._failed)

    def _added(self, prepared: Prepared) -> None:
        self.reading -= 1
        THUMBNAILS.remember(prepared.part.sha256, QPixmap.fromImage(prepared.thumb))
        if prepared.saved:
            self.saved.add(prepared.part.sha256)
        self._pictures.append((prepared.part, prepared.data))
        self._refresh()

    def _failed(self, error: Exception) -> None:
        self.reading -= 1
        self.refused.emit(str(error) if isinstance(error, ImageError) else f"The picture could not be read: {error}")
        self.changed.emit()

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
