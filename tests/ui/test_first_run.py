"""The first-run screen: chat with the demo model in one click, or go to Discover."""

from __future__ import annotations

from app.library import demo_model


def install_demo(smollm2) -> None:
    demo_model.demo_dir().mkdir(parents=True, exist_ok=True)
    (demo_model.demo_dir() / demo_model.FILE_NAME).symlink_to(smollm2)


def test_one_click_chats_with_the_demo_model(make_window, qtbot, smollm2):
    install_demo(smollm2)
    window = make_window()
    panel = window.first_run
    assert window.pages.currentWidget() is panel
    assert panel.demo_button.isEnabled() and "Apache-2.0" in panel.demo_note.text()
    panel.demo_button.click()
    qtbot.waitUntil(lambda: window.engine.client.info is not None, timeout=30000)
    assert window.engine.client.info.path == str(demo_model.demo_dir() / demo_model.FILE_NAME)
    assert window.pages.currentWidget() is window.chat_page
    assert window.store.chats()  # a new chat, ready to type in
    qtbot.waitUntil(lambda: window.chat_page.composer.edit.hasFocus() or window.focusWidget()
                    is window.chat_page.composer.edit)


def test_without_the_demo_model_it_says_why_and_offers_discover(make_window, qtbot):
    demo_model._write_state({"installed": False, "problem": "no network"})
    window = make_window()
    panel = window.first_run
    assert not panel.demo_button.isEnabled()
    assert "could not be installed: no network" in panel.demo_note.text()
    with qtbot.waitSignal(window.library.first_scan_done, timeout=10000) as scanned:
        pass
    assert scanned.args == [False]  # no model at all: the welcome card stays (it offers the starter models)
    assert window.pages.currentWidget() is panel
    panel.discover_button.click()
    assert window.pages.currentWidget() is window.discover_page


def test_no_first_run_screen_once_there_are_chats(make_window):
    from app import paths
    from app.store.conversations import ConversationStore

    store = ConversationStore(paths.database_path())
    store.create_chat("earlier")
    store.close()
    window = make_window()
    assert getattr(window, "first_run", None) is None


def test_the_welcome_card_explains_and_opens_a_file_the_user_has(make_window, qtbot, scripted_model):
    demo_model._write_state({"installed": False, "problem": "no network"})
    window = make_window()
    panel = window.first_run
    sentences = [s for s in panel.intro.text().split(". ") if s.strip()]
    assert len(sentences) == 3 and "this computer" in panel.intro.text()
    assert panel.file_button.isEnabled() and panel.file_button.accessibleName()
    panel.open_file.emit(str(scripted_model))  # what choosing a file in the dialog does
    qtbot.waitUntil(lambda: window.engine.info is not None, timeout=30000)
    assert window.engine.info.path == str(scripted_model)
    assert window.pages.currentWidget() is window.chat_page and window.store.chats()
