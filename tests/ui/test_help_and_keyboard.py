"""Keyboard first and help at hand: the shortcuts dialog, Ctrl+K, Ctrl+Shift+C, the settings panel
toggle, "What's this?" buttons and accessible names, on the real window."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.engine import SamplingParams
from app.settings import Settings
from app.ui.shortcuts_dialog import ShortcutsDialog
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def keys(text: str) -> str:
    return QKeySequence(text).toString(QKeySequence.SequenceFormat.NativeText)


def settle(qtbot, window) -> None:
    """Wait for the window to be active (keys go there) and the first model scan (it may switch pages)."""
    qtbot.waitUntil(lambda: window.isActiveWindow() and not window.library.scanning, timeout=10000)


def open_shortcuts(qtbot, window) -> ShortcutsDialog:
    window.menus.shortcuts.trigger()
    dialogs = [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def test_the_shortcuts_dialog_lists_every_action_with_keys_read_from_the_actions(qtbot, window):
    dialog = open_shortcuts(qtbot, window)
    rows = dict(dialog.rows())
    assert rows[keys("Ctrl+N")] == "New chat"
    assert rows[keys("Ctrl+K")] == "Choose a model…"
    assert rows[keys("Ctrl+Shift+C")] == "Copy last reply"
    assert rows[keys("Ctrl+R")] == "Regenerate last reply"
    assert rows[keys("Ctrl+L")] == "Write a message"
    assert rows[keys("Ctrl+Shift+S")] == "Show settings panel"
    assert [rows[keys(f"Ctrl+{n}")] for n in range(1, 5)] == [
        "Show the Chats page", "Show the Compare page", "Show the Models page", "Show the Discover page"]
    assert rows["Enter"] == "Send the message" and rows["Shift+Enter"] and rows["Esc"]  # the message box's keys
    dialog.close()

    # built from the actions as they are now, not from a list of its own
    extra = QAction("Something new", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+J"))
    window.addAction(extra)
    window.menus.regenerate.setShortcut(QKeySequence("Ctrl+Alt+R"))
    rows = dict(open_shortcuts(qtbot, window).rows())
    assert rows[keys("Ctrl+Alt+J")] == "Something new"
    assert rows[keys("Ctrl+Alt+R")] == "Regenerate last reply" and keys("Ctrl+R") not in rows


def test_ctrl_shift_c_copies_the_last_reply_of_the_chat_shown(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0), emit=True)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    QGuiApplication.clipboard().setText("before")
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_C, CTRL | SHIFT)
    assert QGuiApplication.clipboard().text() == " Hello world"
    assert window.statusBar().currentMessage() == "Copied the last reply"

    window.new_chat()  # a chat without replies: nothing is copied over what is there
    QGuiApplication.clipboard().setText("kept")
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_C, CTRL | SHIFT)
    assert QGuiApplication.clipboard().text() == "kept"
    assert window.statusBar().currentMessage() == "No reply to copy in this chat"


def test_ctrl_k_opens_the_model_picker_from_any_page(qtbot, window):
    picker = window.chat_page.load_settings.picker
    settle(qtbot, window)  # the first scan filled the picker ("No models yet…" here)
    window.show_page(window.compare_page)
    qtbot.keyClick(window, Qt.Key.Key_K, CTRL)
    assert window.pages.currentWidget() is window.chat_page
    qtbot.waitUntil(picker.view().isVisible, timeout=2000)
    picker.hidePopup()
    assert QApplication.focusWidget() is picker

    window.chat_page.focus_composer()  # also from the message box, which must not keep Ctrl+K for itself
    qtbot.keyClick(window.chat_page.composer.edit, Qt.Key.Key_K, CTRL)
    assert picker.view().isVisible()
    picker.hidePopup()


def test_the_settings_panel_hides_and_the_choice_is_remembered(qtbot, make_window):
    window = make_window()
    page = window.chat_page
    settle(qtbot, window)
    window.show_page(page)
    assert window.menus.side_panel.isChecked() and page.side.isVisible()
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_S, CTRL | SHIFT)
    assert page.side.isHidden() and not window.menus.side_panel.isChecked()
    qtbot.waitUntil(lambda: page.splitter.sizes()[1] == 0)  # the chat takes the whole width
    assert page.splitter.widget(0).width() == page.splitter.width()
    assert Settings.load().chat_panel_visible is False
    window.close()

    again = make_window()
    settle(qtbot, again)
    again.show_page(again.chat_page)
    assert again.chat_page.side.isHidden() and not again.menus.side_panel.isChecked()
    toggle = again.chat_page.side_toggle_button
    assert toggle.accessibleName() and not toggle.isChecked()
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert again.chat_page.side.isVisible()
    qtbot.waitUntil(lambda: again.chat_page.splitter.sizes()[1] > 50)
    assert Settings.load().chat_panel_visible is True

    splitter = again.chat_page.splitter
    again.resize(1400, 900)  # room for the chat beside a wide panel
    qtbot.waitUntil(lambda: splitter.width() > 1000)
    splitter.setSizes([splitter.width() - 500, 500])
    width = splitter.sizes()[1]
    again.menus.side_panel.trigger()
    qtbot.waitUntil(lambda: splitter.sizes()[1] == 0)
    again.menus.side_panel.trigger()  # shown again at the width it had
    qtbot.waitUntil(lambda: splitter.sizes()[1] > 0)
    assert abs(splitter.sizes()[1] - width) <= 2


def test_whats_this_buttons_open_the_help_at_their_section(qtbot, window):
    page = window.chat_page
    settle(qtbot, window)
    window.show_page(page)
    qtbot.mouseClick(page.sampling.help_buttons["top_k"], Qt.MouseButton.LeftButton)
    help_page = window.menus.help_opener.page
    assert help_page.isVisible() and help_page.anchor == "top-k"
    scrolled = help_page.browser.verticalScrollBar().value()
    assert scrolled > 0

    page.meter.help_button.click()
    assert help_page.anchor == "context" and help_page.browser.verticalScrollBar().value() < scrolled
    page.load_settings.more.setChecked(True)
    qtbot.mouseClick(page.load_settings.gpu_help, Qt.MouseButton.LeftButton)
    assert help_page.anchor == "gpu-layers"
    assert window.findChildren(type(help_page)) == [help_page]  # one help window, reused

    window.menus.help.trigger()  # Help → Tokens, context and sampling explained: from the top
    assert help_page.anchor == "" and help_page.browser.verticalScrollBar().value() == 0
    text = help_page.browser.toPlainText()
    for words in ("token", "context window", "Temperature", "Top-p", "Top-k", "Min-p", "Repeat penalty", "Seed",
                  "GPU layers", "Q4_K_M", "Q8_0", "F16"):
        assert words in text, words
    # nothing outside is loaded: its only pictures are the shipped ones the page handed over
    import re

    from app.ui.help_text import PICTURES
    assert set(re.findall(r'<img src="([^"]+)"', help_page.browser.toHtml())) == set(PICTURES)
    document = help_page.browser.document()
    for name in PICTURES:
        assert not document.resource(QTextDocument.ResourceType.ImageResource, QUrl(name)).isNull(), name


def has_label_buddy(widget: QWidget, labels: list[QLabel]) -> bool:
    return any(label.buddy() is widget and label.text() for label in labels)


def is_qt_internal(widget: QWidget) -> bool:
    """A part Qt builds inside another control (a spin box's line edit, a scroll area's bars)."""
    parent = widget.parentWidget()
    return widget.objectName().startswith("qt_") or (parent is not None and parent.objectName().startswith("qt_"))


def test_every_visible_control_of_the_main_window_has_an_accessible_name(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)  # a chat with a reply: the message cards' buttons are there too
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    window.show_page(page)
    page.load_settings.more.setChecked(True)  # the load settings' details as well
    kinds = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit)
    labels = window.findChildren(QLabel)
    controls = [w for w in window.findChildren(QWidget)
                if isinstance(w, kinds) and w.isVisible() and w.window() is window and not is_qt_internal(w)]
    assert len(controls) > 30
    for part in (page.sampling, page.meter, page.load_settings, page.composer):
        assert any(part.isAncestorOf(w) for w in controls)
    assert unnamed_controls(window, controls, labels) == []
    # the other pages too: Compare with two columns and a reply, Models with a model, Discover, Downloads
    window.compare_page.controller.new([str(scripted_model)] * 2, lambda _path: ({"n_ctx": 512}, SamplingParams()))
    for show in (lambda: window.show_page(window.compare_page), lambda: window.show_page(window.library_page),
                 lambda: window.show_page(window.discover_page), window.show_downloads):
        show()
        shown = [w for w in window.findChildren(QWidget)
                 if isinstance(w, kinds) and w.isVisible() and w.window() is window and not is_qt_internal(w)]
        assert unnamed_controls(window, shown, window.findChildren(QLabel)) == []


def unnamed_controls(window, controls, labels) -> list[str]:
    return [f"{type(w).__name__} {w.objectName()!r} in {type(w.parentWidget()).__name__}" for w in controls
            if not (w.accessibleName() or (isinstance(w, QAbstractButton) and w.text().strip())
                    or has_label_buddy(w, labels))]


def test_every_menu_command_has_a_shortcut(window):
    missing = [action.text() for menu in window.menuBar().findChildren(QMenu) for action in menu.actions()
               if action.text() and not action.isSeparator() and action.menu() is None
               and action.shortcut().isEmpty() and action.text() != "Quit"]  # Quit: the platform's own key
    assert missing == []
