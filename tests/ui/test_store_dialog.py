"""At start: a damaged or unwritable chat database gets a dialog, never a traceback."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox

from app import paths
from app.store import ConversationStore
from app.ui.store_dialog import QUIT, READ_ONLY, SET_ASIDE, open_or_ask
from tests.support.disks import read_only


class Answers:
    """Stands in for QMessageBox.exec: clicks the named buttons in turn and records what was offered."""

    def __init__(self, monkeypatch, *choices: str) -> None:
        self.choices = list(choices)
        self.seen: list[tuple[str, list[str]]] = []
        monkeypatch.setattr(QMessageBox, "exec", lambda box: self.exec(box))

    def exec(self, box: QMessageBox) -> int:
        buttons = {b.text(): b for b in box.buttons()}
        self.seen.append((box.text(), list(buttons)))
        buttons[self.choices.pop(0)].click()
        return 0


def test_a_damaged_database_can_be_kept_aside_and_a_fresh_one_started(qtbot, monkeypatch):
    path = paths.database_path()
    junk = os.urandom(4096)
    path.write_bytes(junk)
    answers = Answers(monkeypatch, SET_ASIDE)
    store, note = open_or_ask(path)
    text, offered = answers.seen[0]
    assert "damaged" in text and str(path) in text
    assert sorted(offered) == sorted([SET_ASIDE, READ_ONLY, QUIT])
    assert store is not None and store.chats() == [] and not store.read_only
    kept = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == junk and str(kept[0]) in note


def test_read_only_that_fails_asks_again_and_quit_returns_nothing(qtbot, monkeypatch):
    path = paths.database_path()
    path.write_bytes(os.urandom(4096))
    answers = Answers(monkeypatch, READ_ONLY, QUIT)
    store, _note = open_or_ask(path)
    assert store is None and len(answers.seen) == 2
    assert "cannot be read either" in answers.seen[1][0] and READ_ONLY not in answers.seen[1][1]
    assert path.exists()  # never deleted


def test_a_read_only_home_opens_read_only_and_the_window_says_nothing_is_saved(qtbot, monkeypatch):
    from app.settings import Settings
    from app.ui.application import build_window, shutdown

    seed = ConversationStore(paths.database_path())
    seed.add_message(seed.create_chat("Old chat").id, "user", "kept")
    seed.close()
    with read_only(paths.data_dir()):
        answers = Answers(monkeypatch, READ_ONLY)
        store, note = open_or_ask(paths.database_path())
        assert "cannot write" in answers.seen[0][0] and SET_ASIDE not in answers.seen[0][1]
        window = build_window(Settings.load(), store=store)
        qtbot.addWidget(window)
        window.show()
        try:
            page = window.chat_page
            assert page.title.text() == "Old chat" and page.messages.item(0).content == "kept"
            assert not page.save_banner.isHidden() and "read-only" in page.save_banner.message.text()
            window.store.update_chat(page.chat_id, title="Renamed")  # waits in memory, no traceback
            window.new_chat()  # as `hearth --model` does: a chat in memory only
            assert page.chat_id and window.sidebar.current_chat() == page.chat_id
            assert window.store.pending == 2
        finally:
            answers.choices.append("Quit without saving")  # asked on close: changes are not saved
            window.close()
            assert sorted(answers.seen[-1][1]) == ["Keep Hearth open", "Quit without saving"]
            shutdown(window)


def test_the_app_exits_2_when_the_user_quits_at_the_dialog(qtbot, monkeypatch, tmp_path):
    from app.ui.application import EXIT_NO_STORE, run_app

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("HEARTH_HOME", str(blocker / "home"))
    answers = Answers(monkeypatch, QUIT)
    assert run_app() == EXIT_NO_STORE
    assert "cannot write" in answers.seen[0][0]


def test_a_database_from_a_newer_hearth_is_offered_read_only_never_set_aside_or_changed(qtbot, monkeypatch):
    from app.store.schema import VERSION

    seed = ConversationStore(paths.database_path())
    seed.add_message(seed.create_chat("From a newer Hearth").id, "user", "kept")
    seed.db.execute(f"PRAGMA user_version = {VERSION + 1}")
    seed.close()
    before = paths.database_path().read_bytes()
    answers = Answers(monkeypatch, READ_ONLY)
    store, note = open_or_ask(paths.database_path())
    text, buttons = answers.seen[0]
    assert "newer Hearth" in text and READ_ONLY in buttons and SET_ASIDE not in buttons
    assert store is not None and store.read_only and "read-only" in note
    assert [m.content for m in store.messages(store.chats()[0].id)] == ["kept"]
    store.close()
    assert paths.database_path().read_bytes() == before


def test_a_database_from_an_older_hearth_opens_upgraded_and_the_window_says_where_the_old_file_is(qtbot, monkeypatch):
    from tests.store.test_migrations import shipped

    made = shipped(4, paths.database_path().parent)
    made.rename(paths.database_path())
    answers = Answers(monkeypatch)
    store, note = open_or_ask(paths.database_path())
    assert answers.seen == [] and store is not None and not store.read_only
    assert "upgraded" in note and str(store.kept_copy) in note and store.kept_copy.exists()
    assert store.chats("needle")
    store.close()
