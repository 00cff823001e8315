"""Alternatives in the window: Regenerate with… another model, ‹ › on the card, import of an export."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.store.export import chat_to_json
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply


def test_regenerate_with_another_model_adds_an_alternative_naming_it(qtbot, window, scripted_model, tiny_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    assert page.messages.item(1).model == "tiny scripted · F32"
    with qtbot.waitSignal(page.model_loaded, timeout=30000):
        page.regenerate_with(1, str(tiny_model))
    qtbot.waitUntil(lambda: page.messages.rowCount() == 2 and page.messages.item(1).model != "tiny scripted · F32",
                    timeout=10000)
    page.stop()
    wait_reply(qtbot, page)
    second = page.messages.item(1)
    assert (second.alternative, second.alternatives) == (2, 2)
    card = page.view.cards()[1]
    assert card.counter.text() == "2/2" and "tiny scripted · F32" not in card.title.text()
    assert "temp" in card.stats.text()  # the settings that wrote it are named
    qtbot.mouseClick(card.previous, Qt.MouseButton.LeftButton)
    first = page.messages.item(1)
    assert first.content == " Hello world" and first.model == "tiny scripted · F32"
    assert page.view.cards()[1].counter.text() == "1/2" and not page.view.cards()[1].previous.isEnabled()
    # Ctrl+R writes the shown reply again: a third alternative
    window.menus.regenerate.trigger()
    qtbot.waitUntil(lambda: page.messages.item(1).alternatives == 3, timeout=5000)
    page.stop()
    wait_reply(qtbot, page)


def two_replies(qtbot, window, model):
    """A chat with one question and two alternative replies (the second shown)."""
    page = window.chat_page
    load(qtbot, window, model)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    page.regenerate(1)
    wait_reply(qtbot, page)
    return page


def test_an_exported_chat_imports_with_its_alternatives(qtbot, window, scripted_model, tmp_path, monkeypatch):
    page = two_replies(qtbot, window, scripted_model)
    store = window.store
    path = tmp_path / "chat.json"
    path.write_text(chat_to_json(store.chat(page.chat_id), store.all_messages(page.chat_id)), encoding="utf-8")
    original = page.chat_id
    window.chat_files.import_file(str(path))
    assert page.chat_id != original and window.sidebar.current_chat() == page.chat_id
    assert [(i.content, i.alternatives) for i in page.messages.items()] == [("Hello", 1), (" Hello world", 2)]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"messages": "nope"}), encoding="utf-8")
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    chats = len(store.chats())
    window.chat_files.import_file(str(bad))
    assert len(store.chats()) == chats and "not a chat exported by Hearth" in warnings[0].replace("\xa0", " ")


def test_the_alternative_shown_is_still_shown_after_a_restart(qtbot, make_window, scripted_model):
    from app.ui.application import shutdown

    window = make_window()
    page = two_replies(qtbot, window, scripted_model)
    qtbot.mouseClick(page.view.cards()[1].previous, Qt.MouseButton.LeftButton)  # ‹ back to the first reply
    chat_id, first_id = page.chat_id, page.messages.item(1).record_id
    assert (page.messages.item(1).alternative, page.messages.item(1).alternatives) == (1, 2)
    window.close()
    shutdown(window)
    again = make_window()  # the app started again on the same data folder
    again.sidebar.select(chat_id)
    reply = again.chat_page.messages.item(1)
    assert (reply.record_id, reply.alternative, reply.alternatives) == (first_id, 1, 2)
    assert again.chat_page.view.cards()[1].counter.text() == "1/2"


def test_an_import_waits_while_messages_wait_for_the_disk(qtbot, window, scripted_model, tmp_path, monkeypatch):
    # the queue's messages hold ids an import written straight to disk could take: Retry would then fail forever
    from tests.support.disks import FullDisk

    page = two_replies(qtbot, window, scripted_model)
    store = window.store
    path = tmp_path / "chat.json"
    path.write_text(chat_to_json(store.chat(page.chat_id), store.all_messages(page.chat_id)), encoding="utf-8")
    disk = FullDisk(store.store)
    disk.fill()
    page.session.set_system_prompt("Be brief.")
    page.session.save_system_prompt()
    assert store.pending
    disk.free()
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    chats = len(store.chats())
    window.chat_files.import_file(str(path))
    assert len(store.chats()) == chats and "waiting to be saved" in warnings[0].replace("\xa0", " ")
    assert store.retry()
    window.chat_files.import_file(str(path))
    assert len(store.chats()) == chats + 1
