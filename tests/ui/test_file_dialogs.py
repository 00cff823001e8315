"""File dialogs open in the folder last used for their kind of file, also after a restart."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QPushButton

from tests.ui.conftest import load


class DialogRecorder:
    """Stands in for the user in Qt's file dialogs: notes where each opened and answers `answer`."""

    def __init__(self, monkeypatch) -> None:
        self.opened_in: list[str] = []
        self.answer = ""
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._file)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._file)
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", self._folder)

    def _file(self, _parent, _caption, start, _filters=""):
        self.opened_in.append(start)
        return self.answer, ""

    def _folder(self, _parent, _caption, start):
        self.opened_in.append(start)
        return self.answer


def button(window, text: str) -> QPushButton:
    return next(b for b in window.findChildren(QPushButton) if b.text() == text)


def test_each_kind_of_dialog_reopens_where_it_was_last_used_even_after_a_restart(
        qtbot, make_window, monkeypatch, tmp_path, scripted_model):
    dialogs = DialogRecorder(monkeypatch)
    window = make_window()
    window.show_page(window.library_page)
    button(window, "Import…").click()  # cancelled: nothing remembered
    assert dialogs.opened_in == [str(Path.home())]
    models = tmp_path / "my models"
    models.mkdir()
    dialogs.answer = str(models)
    button(window, "Add folder…").click()
    dialogs.answer = ""
    button(window, "Add folder…").click()
    assert dialogs.opened_in[-1] == str(models)
    button(window, "Import…").click()  # another kind: still the home folder
    assert dialogs.opened_in[-1] == str(Path.home())

    exports = tmp_path / "exports"
    exports.mkdir()
    load(qtbot, window, scripted_model)
    dialogs.answer = str(exports / "chat.md")
    window.menus.export_md.trigger()
    qtbot.waitUntil((exports / "chat.md").is_file, timeout=10_000)  # written off the GUI thread
    dialogs.answer = ""
    window.menus.export_json.trigger()
    assert Path(dialogs.opened_in[-1]).parent == exports

    window.close()
    again = make_window()  # the next session remembers
    again.menus.export_md.trigger()
    assert Path(dialogs.opened_in[-1]).parent == exports
    again.show_page(again.library_page)
    button(again, "Add folder…").click()
    assert dialogs.opened_in[-1] == str(models)


def test_a_remembered_folder_that_is_gone_falls_back_to_home(qtbot, make_window, monkeypatch, tmp_path):
    dialogs = DialogRecorder(monkeypatch)
    window = make_window()
    gone = tmp_path / "gone"
    gone.mkdir()
    dialogs.answer = str(gone)
    window.show_page(window.library_page)
    button(window, "Add folder…").click()
    gone.rmdir()
    dialogs.answer = ""
    button(window, "Add folder…").click()
    assert dialogs.opened_in[-1] == str(Path.home())
