"""The single-file bundle's first start: nobody fetched the demo model yet (`make run` does it before
the app starts), so the welcome card offers to download it, off the GUI thread, then chats with it."""

from __future__ import annotations

import shutil

from PySide6.QtWidgets import QPushButton

from app.library import demo_model


def demo_button(panel) -> QPushButton:
    return next(b for b in panel.findChildren(QPushButton) if b.accessibleName().startswith(
        ("Download the demo model", "Chat with the demo model")))


def test_the_card_offers_the_download_and_then_chats_with_the_demo_model(make_window, qtbot, smollm2):
    window = make_window()
    panel = window.first_run
    button = demo_button(panel)
    assert button.isEnabled() and button.text() == "Download the demo model (98 MB)"
    assert button.accessibleName() == "Download the demo model" and "Apache-2.0" in panel.demo_note.text()
    fetched_in = []

    def fetch(dest_dir):  # the real file, put in place as pip's download would (tested in test_demo_model)
        fetched_in.append(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        return shutil.copyfile(smollm2, dest_dir / demo_model.FILE_NAME)

    panel.fetch = fetch
    button.click()
    assert not button.isEnabled() and button.text().startswith("Downloading the demo model")
    qtbot.waitUntil(lambda: window.engine.client.info is not None, timeout=60000)
    assert fetched_in == [demo_model.demo_dir()]
    assert window.engine.client.info.path == str(demo_model.demo_dir() / demo_model.FILE_NAME)
    assert window.pages.currentWidget() is window.chat_page and window.store.chats()
    assert demo_model.install_problem() == "" and demo_model.installed_path() is not None


def test_offline_the_download_fails_with_a_sentence_and_the_app_goes_on(make_window, qtbot, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip finds no index, as offline
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    window = make_window()
    panel = window.first_run
    button = demo_button(panel)
    button.click()  # the real pip, in the background: the GUI thread stays free
    assert not button.isEnabled()
    qtbot.waitUntil(lambda: "could not be installed" in panel.demo_note.text(), timeout=60000)
    assert "could not reach the Python package index" in panel.demo_note.text()
    assert "Hearth works without it" in panel.demo_note.text()
    assert not button.isEnabled() and button.accessibleName() == "Chat with the demo model"
    assert window.pages.currentWidget() is panel and window.engine.client.info is None


def test_a_make_run_install_keeps_the_card_as_it_was(make_window, smollm2):
    def fetch(dest_dir):
        dest_dir.mkdir(parents=True, exist_ok=True)
        return shutil.copyfile(smollm2, dest_dir / demo_model.FILE_NAME)

    demo_model.install(fetch)  # what `make run` does before the app starts
    panel = make_window().first_run
    button = demo_button(panel)
    assert button.isEnabled() and button.text() == "Chat with the demo model now"
