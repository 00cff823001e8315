"""The window knows model files by content: copies are one row, Hub files already here are marked,
import asks how, and a base model says so on every page."""

from __future__ import annotations

import hashlib
import shutil

from PySide6.QtWidgets import QMessageBox

from app import paths
from app.library.file_hashes import HashCache
from app.library.model_import import ImportMethod, import_folder
from app.library.model_kind import BASE_MODEL
from app.ui.models.discover_page import HAVE_MARK
from app.ui.models.import_dialog import ImportDialog
from tests.support.fake_hub import TEST_REPO as REPO
from tests.support.tiny_gguf import write_tiny_model
from tests.ui.conftest import load


def _scanned(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.library.scanning and not window.library.hashing, timeout=15000)


def test_one_file_in_two_places_is_one_row_in_models_picker_and_regenerate(qtbot, window, tiny_model, tmp_path,
                                                                           monkeypatch):
    ours = paths.models_dir() / "imported" / "Tiny-Chat.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copy(tiny_model, ours)
    elsewhere = tmp_path / "shelf"
    elsewhere.mkdir()
    shutil.copy(tiny_model, elsewhere / "Tiny-Chat.gguf")
    _scanned(qtbot, window)
    window.model_lists.add_folder(str(elsewhere))
    qtbot.waitUntil(lambda: bool(window.library.models and window.library.models[0].copies), timeout=15000)
    library = window.library_page
    assert library.models.rowCount() == 1
    assert library.models.rows[0][0][7] == f"2 places: Hearth · {elsewhere}"
    picker = window.chat_page.load_settings
    assert [path for _label, path in picker.choices()] == [str(ours)]  # also the "Regenerate with…" menu
    # the copy's path picks the one row
    picker.set_models(window.library.models, keep=str(elsewhere / "Tiny-Chat.gguf"))
    assert picker.current_path() == str(ours)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text: asked.append(text)
                        or QMessageBox.StandardButton.Yes)
    library.table.selectRow(0)
    library.delete_button.click()  # only the file in Hearth's folder goes
    assert not ours.exists() and (elsewhere / "Tiny-Chat.gguf").exists()
    assert f"The copy in {elsewhere} stays." in asked[0].replace("\xa0", " ")


def test_discover_marks_files_already_here_and_a_download_is_known_by_its_verified_hash(
        qtbot, window, fake_hub, scripted_model, tiny_model):
    here = paths.models_dir() / "mine" / "scripted.gguf"
    here.parent.mkdir(parents=True)
    shutil.copy(scripted_model, here)  # the Hub's tiny-chat.Q4_K_M.gguf, under another name
    window.library.refresh()
    _scanned(qtbot, window)
    page = window.discover_page
    page.open_repo(REPO)
    qtbot.waitUntil(lambda: any(HAVE_MARK in cells[3] for cells, _c in page.files.rows), timeout=15000)
    marked = [choice.name for cells, choice in page.files.rows if HAVE_MARK in cells[3]]
    assert marked == ["tiny-chat.Q4_K_M.gguf"]
    row = next(i for i, (_cells, c) in enumerate(page.files.rows) if c.name == "tiny-chat.Q8_0.gguf")
    page.file_table.selectRow(row)
    with qtbot.waitSignal(window.downloads.download_finished, timeout=20000) as blocker:
        page.download_button.click()
    with HashCache.open_default() as cache:
        assert cache.known(paths.models_dir() / blocker.args[0]) == hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    qtbot.waitUntil(lambda: sorted(c.name for cells, c in page.files.rows if HAVE_MARK in cells[3])
                    == ["tiny-chat.F16.gguf", "tiny-chat.Q4_K_M.gguf", "tiny-chat.Q8_0.gguf"], timeout=15000)


def test_import_asks_how_and_links_by_default_on_the_same_disk(qtbot, window, tiny_model, tmp_path, monkeypatch):
    source = tmp_path / "Downloads" / "Tiny-Chat.gguf"
    source.parent.mkdir()
    shutil.copy(tiny_model, source)
    seen = []

    def cancel(dialog):
        seen.append(dialog.method())
        return 0

    library = window.library_page
    monkeypatch.setattr(ImportDialog, "exec", cancel)
    library.import_file(str(source))
    assert seen == [ImportMethod.LINK] and "cancelled" in library.message.text()
    assert not import_folder().joinpath(source.name).exists()
    monkeypatch.setattr(ImportDialog, "exec", lambda dialog: 1)  # Import with the default
    with qtbot.waitSignal(library.library_changed, timeout=10000):
        library.import_file(str(source))
    assert import_folder().joinpath(source.name).stat().st_ino == source.stat().st_ino
    linked = "Linked Tiny-Chat.gguf into Hearth's models folder."
    assert library.message.text().startswith(linked)
    # the rescan the import started (and any scan still under way from the start) keeps the outcome ahead
    qtbot.waitUntil(lambda: "1 model." in library.message.text(), timeout=15000)
    assert library.message.text().startswith(f"{linked} 1 model.")


def test_a_base_model_says_so_in_models_picker_and_info_line(qtbot, window, tmp_path):
    base = write_tiny_model(paths.models_dir() / "gemma-3-270m-Q8_0.gguf", chat_template=None, name="Gemma 3 270m")
    window.library.refresh()
    qtbot.waitUntil(lambda: window.library_page.models.rowCount() == 1, timeout=15000)
    cells = window.library_page.models.rows[0][0]
    assert cells[0] == "Gemma 3 270M · Q8_0" and cells[6] == BASE_MODEL
    picker = window.chat_page.load_settings
    assert picker.choices()[0][0].endswith(f" · {BASE_MODEL}")
    load(qtbot, window, base)
    line = picker.status.text()
    assert line.startswith(f"Gemma 3 270M · Q8_0 · {BASE_MODEL} · ") and line.count(BASE_MODEL) == 1
