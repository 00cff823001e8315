"""Discover, Downloads and Models pages driven with pytest-qt against the local Hub server."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QThreadPool

from app.hub.errors import HubError
from tests.support.fake_hub import TEST_REPO as REPO


def row_of(model, text: str) -> int:
    return next(i for i, (cells, _obj) in enumerate(model.rows) if any(text in c for c in cells))


def test_first_run_offers_discover_with_starter_models(qtbot, window):
    with qtbot.waitSignal(window.library.first_scan_done, timeout=10000):
        pass
    assert not window.library.has_usable_model
    assert window.pages.currentWidget() is window.first_run  # the welcome card stays and offers them
    window.first_run.discover_button.click()
    assert window.pages.currentWidget() is window.discover_page
    assert window.discover_page.catalog_box.isVisibleTo(window.discover_page)
    assert len(window.discover_page.catalog.rows) >= 5


def test_search_to_download_to_library_to_chat(qtbot, window, fake_hub):
    page = window.discover_page
    window.show_page(window.discover_page)
    page.query.setText("tiny")
    page.search()
    qtbot.waitUntil(lambda: page.repos.rowCount() == 1, timeout=10000)
    assert page.repos.rows[0][0][0] == REPO
    page.repo_table.selectRow(0)
    qtbot.waitUntil(lambda: page.files.rowCount() == 4, timeout=10000)
    qtbot.waitUntil(lambda: "Tiny Chat" in page.card.toPlainText(), timeout=10000)
    qtbot.waitUntil(lambda: window.machine.probe is not None, timeout=10000)
    fits = {cells[2] for cells, _ in page.files.rows}
    assert fits == {"CPU only"}  # the window's probe: no GPU, 8 GiB free
    page.file_table.selectRow(row_of(page.files, "tiny-chat.Q4_K_M.gguf"))
    assert page.download_button.isEnabled()
    with qtbot.waitSignal(window.downloads.download_finished, timeout=20000) as blocker:
        page.download_button.click()
    path = blocker.args[0]
    assert path.endswith("hearth-test/Tiny-Chat-GGUF/tiny-chat.Q4_K_M.gguf")
    assert window.downloads.model.rows[0].status == "done"
    library = window.library_page
    qtbot.waitUntil(lambda: library.models.rowCount() == 1, timeout=10000)
    cells = library.models.rows[0][0]
    assert cells[1] == "llama" and cells[3] == "F32" and cells[6] == "its own chat template"
    # open it in a chat and talk to it
    library.table.selectRow(0)
    with qtbot.waitSignal(window.chat_page.model_loaded, timeout=30000):
        library.chat_button.click()
    assert window.pages.currentWidget() is window.chat_page
    chat = window.chat_page
    chat.composer.set_text("Hello")
    chat.composer.send_button.click()
    qtbot.waitUntil(lambda: not chat.streaming and chat.messages.rowCount() == 2, timeout=20000)
    assert chat.messages.item(1).content.strip() != "" and chat.messages.item(1).stats


def test_hash_mismatch_download_shows_failed_and_never_ready(qtbot, window, fake_hub):
    fake_hub.corrupt("tiny-chat.Q8_0.gguf")
    page = window.discover_page
    page.open_repo(REPO)
    qtbot.waitUntil(lambda: page.files.rowCount() == 4, timeout=10000)
    page.file_table.selectRow(row_of(page.files, "tiny-chat.Q8_0.gguf"))
    with qtbot.waitSignal(window.downloads.download_failed, timeout=20000) as blocker:
        page.download_button.click()
    assert "SHA-256" in blocker.args[0]
    assert window.downloads.model.rows[0].status == "failed"
    assert "SHA-256" in page.message.text()
    QThreadPool.globalInstance().waitForDone(5000)
    with qtbot.waitSignal(window.library.models_changed, timeout=10000) as scanned:
        window.library.refresh()
    assert scanned.args[0] == [] and window.library_page.models.rowCount() == 0  # the damaged file never shows


def test_offline_discover_says_so_and_library_still_works(qtbot, monkeypatch, make_window, tiny_model):
    from app import paths

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    shutil.copy(tiny_model, paths.models_dir() / "local.gguf")
    window = make_window()
    page = window.discover_page
    assert "offline" in page.message.text()
    page.query.setText("llama")
    page.search()
    qtbot.waitUntil(lambda: page.search_button.isEnabled(), timeout=10000)
    assert "offline" in page.message.text()
    qtbot.waitUntil(lambda: window.library_page.models.rowCount() == 1, timeout=10000)


def test_import_and_delete_with_confirmation(qtbot, window, tiny_model, broken_models, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.library.model_import import ImportMethod
    from app.ui.models.import_dialog import ImportDialog

    def choose_copy(dialog):
        dialog.buttons[ImportMethod.COPY].setChecked(True)
        return 1

    monkeypatch.setattr(ImportDialog, "exec", choose_copy)
    library = window.library_page
    with qtbot.waitSignal(library.library_changed, timeout=10000):
        library.import_file(str(tiny_model))
    qtbot.waitUntil(lambda: library.models.rowCount() == 1, timeout=10000)
    library.import_file(str(broken_models["truncated"]))
    qtbot.waitUntil(lambda: "Could not import" in library.message.text(), timeout=10000)
    assert "incomplete" in library.message.text()
    library.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    library.delete_button.click()
    assert library.models.rowCount() == 1
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    library.delete_button.click()
    qtbot.waitUntil(lambda: library.models.rowCount() == 0, timeout=10000)


def test_paused_download_is_listed_after_restart_and_resumes(qtbot, make_window, fake_hub):
    from app.hub.download import Downloader
    from app.hub.download_record import DownloadRecord
    from app.hub.search import list_gguf_files

    choice = next(c for c in list_gguf_files(REPO) if c.name == "tiny-chat.Q8_0.gguf")
    first = Downloader(DownloadRecord.for_choice(REPO, choice), retry_backoff=0.01)
    fake_hub.drop_after("tiny-chat.Q8_0.gguf", 100_000)  # only part arrives before the pause
    with pytest.raises(HubError):
        first.run(lambda p: first.pause())
    window = make_window()
    rows = window.downloads.model.rows
    assert len(rows) == 1 and rows[0].status == "paused" and 0 < rows[0].done_bytes < choice.size
    view = window.discover_page.downloads_view
    view.table.selectRow(0)
    with qtbot.waitSignal(window.downloads.download_finished, timeout=20000):
        view.resume_button.click()
    assert fake_hub.ranges_seen("tiny-chat.Q8_0.gguf")[-1].startswith("bytes=")
