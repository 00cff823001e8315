"""Pictures never make the window wait: files are read, checked, decoded and written off the GUI
thread; a message sent while its picture is still being read goes with it; stored pictures' thumbnails
and the large view are read off the GUI thread too."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QDialog, QWidget

from app import paths
from app.store.images import ImageFiles
from app.ui.application import shutdown
from app.ui.chat import picture_work
from app.ui.chat.pictures import THUMBNAILS, Thumbnail
from tests.support.tiny_vision import png_bytes, write_tiny_vision_pair
from tests.ui.test_journeys import choose_model, named, settle, wait_reply


def test_a_dropped_picture_is_read_off_the_gui_thread_and_goes_with_a_message_sent_meanwhile(
        make_window, qtbot, tmp_path, monkeypatch):
    model, _projector = write_tiny_vision_pair(paths.models_dir() / "someone" / "tiny-vision-GGUF")
    threads: dict[str, str] = {}
    read, save, stored = picture_work.read_picture, ImageFiles.save, ImageFiles.read

    def slow_read(path: str):
        threads["read"] = threading.current_thread().name
        time.sleep(0.4)  # a large file on a slow disk
        return read(path)

    def saving(self, data: bytes) -> str:
        threads.setdefault("save", threading.current_thread().name)
        return save(self, data)

    def reading(self, sha256: str) -> bytes:
        threads["thumbnail"] = threading.current_thread().name
        return stored(self, sha256)

    monkeypatch.setattr(picture_work, "read_picture", slow_read)
    monkeypatch.setattr(ImageFiles, "save", saving)
    monkeypatch.setattr(ImageFiles, "read", reading)
    window = make_window()
    settle(qtbot, window)
    choose_model(qtbot, window, model)
    page = window.chat_page
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    started = time.monotonic()
    page.composer.edit.insertFromMimeData(mime)  # a drop on the message box
    assert time.monotonic() - started < 0.2 and page.composer.attachments.reading == 1  # the window went on
    box = named(page, "Message", QWidget)
    qtbot.keyClicks(box, "What is in this picture?")
    qtbot.keyClick(box, Qt.Key.Key_Return)  # sent before the picture is in: it waits for it
    qtbot.waitUntil(lambda: len(page.view.cards()) == 2, timeout=10000)
    wait_reply(qtbot, window)
    user = page.view.cards()[0]
    assert [p.name for p in user.item.images] == ["photo.png"] and user.item.content == "What is in this picture?"
    main = threading.main_thread().name
    assert threads["read"] != main and threads["save"] != main

    chat_id = page.chat_id
    window.close()
    assert shutdown(window)
    THUMBNAILS._kept.clear()  # a new run: nothing decoded yet
    window = make_window()
    settle(qtbot, window)
    window.show_chat(chat_id)
    card = window.chat_page.view.cards()[0]
    qtbot.waitUntil(lambda: any(not t.pixmap().isNull() for t in card.findChildren(Thumbnail)), timeout=10000)
    assert threads["thumbnail"] != main
    thumb = next(t for t in card.findChildren(Thumbnail))
    qtbot.mouseClick(thumb, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() and d.windowTitle() == "photo.png"
                                for d in window.findChildren(QDialog)), timeout=10000)


def test_a_webp_picture_is_attached_as_png(window, qtbot, tmp_path):
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    page = window.chat_page
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert QImage.fromData(png_bytes()).save(buffer, "WEBP")
    photo = tmp_path / "photo.webp"
    photo.write_bytes(bytes(data.data()))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    page.composer.edit.insertFromMimeData(mime)
    qtbot.waitUntil(lambda: bool(page.composer.attachments.pictures()), timeout=10000)
    (part, sent), = page.composer.attachments.pictures()
    assert part.mime == "image/png" and sent.startswith(b"\x89PNG") and (part.width, part.height) == (24, 20)


def test_a_chats_pictures_are_read_once_off_the_gui_thread_exported_and_cleaned_up_there(
        make_window, qtbot, tmp_path, monkeypatch):
    from app.chat.images import PICTURES
    from app.store.export import picture_file
    from app.ui import file_dialogs
    from tests.ui.test_pictures import paste_picture

    model, _projector = write_tiny_vision_pair(paths.models_dir() / "someone" / "tiny-vision-GGUF")
    window = make_window()
    settle(qtbot, window)
    choose_model(qtbot, window, model)
    page = window.chat_page
    paste_picture(page, png_bytes(seed=21), qtbot)
    qtbot.keyClicks(named(page, "Message", QWidget), "What is in this picture?")
    qtbot.keyClick(named(page, "Message", QWidget), Qt.Key.Key_Return)
    wait_reply(qtbot, window)
    chat_id, part = page.chat_id, page.view.cards()[0].item.images[0]
    counted = page.meter.used

    main = threading.main_thread().name
    on_gui: list[str] = []
    read, remove = ImageFiles.read, ImageFiles.remove_unused

    def reading(self, sha256: str) -> bytes:
        if threading.current_thread().name == main:
            on_gui.append(f"read {sha256[:8]}")
        return read(self, sha256)

    def removing(self, used, before=None) -> int:
        if threading.current_thread().name == main:
            on_gui.append("scan")
        return remove(self, used, before)

    monkeypatch.setattr(ImageFiles, "read", reading)
    monkeypatch.setattr(ImageFiles, "remove_unused", removing)
    PICTURES._kept.clear()  # as after a restart: nothing read yet
    window.new_chat()
    window.show_chat(chat_id)  # the meter counts the picture once it is read, off the GUI thread
    qtbot.waitUntil(lambda: page.meter.used == counted, timeout=20000)
    type_and_send_after_picture = "And now?"
    qtbot.keyClicks(named(page, "Message", QWidget), type_and_send_after_picture)
    qtbot.keyClick(named(page, "Message", QWidget), Qt.Key.Key_Return)  # sent from memory
    wait_reply(qtbot, window)
    assert not page.view.cards()[-1].item.error

    out = tmp_path / "export" / "chat.md"
    out.parent.mkdir()
    monkeypatch.setattr(file_dialogs, "save_file", lambda *args: str(out))
    window.chat_files.export("md")  # the picture is copied beside it, off the GUI thread
    qtbot.waitUntil(lambda: (out.parent / picture_file(part)).exists(), timeout=10000)
    assert picture_file(part) in out.read_text(encoding="utf-8")

    window.new_chat()
    page.store.delete_chat(chat_id)  # its picture goes, the folder scanned on a thread of its own
    cleanup = page.store.image_cleanup
    assert cleanup is not None
    cleanup.join(10)
    assert on_gui == []
