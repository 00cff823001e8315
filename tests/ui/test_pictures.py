"""Pictures in the chat window with the generated vision model: pasted, shown, counted, answered,
stored once; a text-only model says it cannot see them before anything is sent."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from app import paths
from app.engine.protocol import NO_VISION
from app.ui.chat.pictures import Thumbnail
from tests.support.tiny_vision import IMAGE_TOKENS, png_bytes, write_tiny_vision_pair
from tests.ui.test_journeys import choose_model, in_library, named, settle, type_and_send, wait_reply


def paste_picture(page, data: bytes, qtbot=None) -> None:
    """What Ctrl+V (or a drop) hands the message box; with `qtbot`, until the picture is read (off the GUI
    thread) and shown or refused."""
    mime = QMimeData()
    mime.setImageData(QImage.fromData(data))
    assert page.composer.edit.canInsertFromMimeData(mime)
    page.composer.edit.insertFromMimeData(mime)
    if qtbot is not None:
        qtbot.waitUntil(lambda: not page.composer.attachments.reading, timeout=10000)


def last_count(qtbot, page, before: int) -> int:
    qtbot.waitUntil(lambda: page.meter.used != before, timeout=20000)
    return page.meter.used


def test_a_pasted_picture_is_shown_counted_answered_and_stored_once(make_window, qtbot, tmp_path, tiny_model):
    # as a download leaves them: each repository in its own folder (hub/download_paths.py)
    model, projector = write_tiny_vision_pair(paths.models_dir() / "tests" / "tiny-vision-GGUF")
    placed_model, placed_projector = model, projector
    in_library(tiny_model)
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    offered = [path for _label, path in page.load_settings.choices()]
    assert str(placed_model) in offered and str(placed_projector) not in offered  # never a chat model alone
    choose_model(qtbot, window, placed_model)
    assert window.engine.info.mmproj == str(placed_projector)  # paired by its header, beside the model
    qtbot.waitUntil(lambda: page.meter.used > 0, timeout=20000)
    without = page.meter.used

    paste_picture(page, png_bytes(), qtbot)
    thumbs = [t for t in page.composer.findChildren(Thumbnail) if t.isVisible()]
    assert len(thumbs) == 1 and not thumbs[0].pixmap().isNull()
    with_picture = last_count(qtbot, page, without)
    assert with_picture > without + IMAGE_TOKENS  # the picture's tokens and its turn's
    box = named(page, "Message", QWidget)
    qtbot.keyClicks(box, "What is in this picture?")
    before_sending = last_count(qtbot, page, with_picture)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    wait_reply(qtbot, window)
    cards = page.view.cards()
    user, reply = cards[-2], cards[-1]
    assert [p.width for p in user.item.images] == [24] and user.pictures.isVisible()
    assert reply.item.stats["completion_tokens"] > 0 and not reply.item.error
    assert reply.item.stats["prompt_tokens"] == before_sending  # counted before sending exactly as evaluated
    assert not page.composer.attachments.pictures()
    sha = user.item.images[0].sha256
    stored = paths.data_dir() / "images" / sha[:2] / sha
    assert stored.exists() and hashlib.sha256(stored.read_bytes()).hexdigest() == sha

    choose_model(qtbot, window, paths.models_dir() / tiny_model.name)  # a text-only model
    paste_picture(page, png_bytes(seed=9), qtbot)
    assert page.notice.text() == NO_VISION  # said at once, before anything is sent
    count = len(page.view.cards())
    type_and_send(qtbot, page, "And this one?")
    assert len(page.view.cards()) == count  # nothing was sent: the text and the picture stay
    assert named(page, "Message", QWidget).toPlainText() == "And this one?"
    assert len(page.composer.attachments.pictures()) == 1


def test_a_damaged_or_huge_picture_gets_one_sentence(window, qtbot, tmp_path):
    page = window.chat_page
    huge = tmp_path / "huge.png"
    side = (20000).to_bytes(4, "big")
    huge.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + side * 2 + b"\x08\x02\x00\x00\x00")
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(png_bytes()[:60])
    for path, words in ((huge, "too big"), (damaged, "damaged")):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        page.composer.edit.insertFromMimeData(mime)
        qtbot.waitUntil(lambda: not page.composer.attachments.reading, timeout=10000)
        assert words in page.notice.text() and path.name in page.notice.text()
    assert not page.composer.attachments.pictures()


def test_a_markdown_export_writes_its_pictures_beside_it(qtbot, tmp_path):
    from app.store import ConversationStore
    from app.store.export import picture_file
    from app.store.pending_writes import PendingWrites
    from app.ui.chat_export import write_pictures
    from tests.store.test_pictures import chat_with_picture

    parent = QWidget()
    qtbot.addWidget(parent)
    writes = PendingWrites(ConversationStore(tmp_path / "data" / "chats.sqlite3"))
    conversation = chat_with_picture(writes, png_bytes(seed=6))
    messages = writes.all_messages(conversation.chat_id)
    write_pictures(writes.read_image, messages, str(tmp_path / "out" / "chat.md"))
    assert (tmp_path / "out" / picture_file(messages[0].images[0])).read_bytes() == png_bytes(seed=6)


def test_deleting_another_chat_keeps_the_picture_waiting_in_the_composer(make_window, qtbot):
    model, _projector = write_tiny_vision_pair(paths.models_dir() / "someone" / "tiny-vision-GGUF")
    window = make_window()
    settle(qtbot, window)
    choose_model(qtbot, window, model)
    page = window.chat_page
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, window)
    other = page.chat_id
    window.new_chat()
    paste_picture(page, png_bytes(seed=11), qtbot)
    assert page.composer.attachments.saved  # written into the image folder when attached
    page.store.delete_chat(other)  # its cleanup takes the pictures no message names yet
    type_and_send(qtbot, page, "What is in this picture?")
    wait_reply(qtbot, window)
    user, reply = page.view.cards()[-2:]
    assert not reply.item.error and reply.item.stats["completion_tokens"] > 0
    sha = user.item.images[0].sha256
    assert hashlib.sha256(page.store.read_image(sha)).hexdigest() == sha  # written again on sending
    type_and_send(qtbot, page, "And again?")  # the chat goes on
    wait_reply(qtbot, window)
    assert not page.view.cards()[-1].item.error and len(page.view.cards()) == 4


def test_several_refused_pictures_each_say_why_and_another_chat_starts_clear(window, qtbot, tmp_path):
    page = window.chat_page
    other = page.store.create_chat("Another chat").id
    damaged, text = tmp_path / "damaged.png", tmp_path / "notes.png"
    damaged.write_bytes(png_bytes()[:60])
    text.write_bytes(b"plain text, not a picture")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(damaged)), QUrl.fromLocalFile(str(text))])
    page.composer.edit.insertFromMimeData(mime)  # both at once
    qtbot.waitUntil(lambda: not page.composer.attachments.reading, timeout=10000)
    assert "damaged.png" in page.notice.text() and "notes.png" in page.notice.text()
    window.show_chat(other)
    assert page.notice.text() == ""  # about the previous chat's composer: gone
