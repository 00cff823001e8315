"""One writer per database, and views that follow what it announces instead of being told by hand.

Every GUI test runs under tests/ui/conftest.py's `one_writer` guard (a write from app/ui past the
writer fails the test); these check the guard itself and the paths that used to write directly.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from app.engine import SamplingParams
from app.store.changes import Change
from app.store.conversations import ConversationStore
from app.store.export import chat_to_json
from app.ui.changes import change_signal
from tests.support.one_writer import UI


def test_the_guard_catches_a_direct_write_from_the_gui(one_writer, tmp_path):
    violations = one_writer  # tests/ui/conftest.py's guard, on for every GUI test
    store = ConversationStore(tmp_path / "chats.sqlite3")
    code = compile("store.create_chat('Past the writer')", UI + "pretend_view.py", "exec")
    exec(code, {"store": store})
    assert violations and "create_chat from" in violations[0] and "pretend_view.py" in violations[0]
    violations.clear()  # (else the guard fails this test, as it would any other)


def test_every_part_of_the_window_holds_the_one_writer(window):
    writer = window.store
    assert writer.store.writer is writer
    assert window.chat_page.store is writer and window.sidebar.store is writer
    assert window.compare_page.controller.store is writer
    assert all(c.session.store is writer for c in window.compare_page.controller.columns)
    with pytest.raises(ValueError, match="already has its writer"):
        type(writer)(writer.store)


def test_sidebar_import_and_compare_write_through_the_writer_and_views_follow_its_announcements(
        qtbot, window, tmp_path, monkeypatch):
    heard: list[Change] = []
    change_signal(window.store).changed.connect(lambda changes: heard.extend(changes))
    page, sidebar = window.chat_page, window.sidebar

    first = window.store.create_chat("First")  # as any write: the list follows without being told
    assert sidebar.model.chat_at(0).title == "First"
    assert Change("created", "chat", first.id) in heard
    sidebar.select(first.id)
    assert page.chat_id == first.id

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Renamed in the list", True))
    sidebar.rename_current()
    assert Change("updated", "chat", first.id) in heard
    assert sidebar.model.chat_at(sidebar.model.row_of(first.id)).title == "Renamed in the list"
    assert page.title.text() == "Renamed in the list"  # the page heard it too

    window.store.add_message(first.id, "user", "kept in the export")
    path = tmp_path / "chat.json"
    path.write_text(chat_to_json(window.store.chat(first.id), window.store.all_messages(first.id)), encoding="utf-8")
    window.chat_files.import_file(str(path))
    imported = page.chat_id
    assert imported != first.id and Change("created", "chat", imported) in heard
    assert [m.content for m in window.store.messages(imported)] == ["kept in the export"]

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    sidebar.select(first.id)
    sidebar.delete_current()
    assert Change("deleted", "chat", first.id) in heard and sidebar.model.row_of(first.id) == -1

    compare = window.compare_page
    controller = compare.controller
    controller.new(["/models/a.gguf", "/models/b.gguf"], lambda path: ({"n_ctx": 512}, SamplingParams()))
    made = controller.comparison
    assert made is not None and Change("created", "comparison", made.id) in heard
    controller.rename("Colours")
    assert Change("updated", "comparison", made.id) in heard
    assert [compare.saved.itemText(i) for i in range(compare.saved.count())] == ["Colours"]
    controller.delete()
    assert Change("deleted", "comparison", made.id) in heard and compare.saved.count() == 0
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 3
