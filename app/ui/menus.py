"""The window's menus: every command as a QAction with its shortcut and a one-line tip.

The actions are kept on the window (window.new_chat_action, …) so tests and other
parts can trigger or disable them. Help → Keyboard shortcuts lists them from the actions
themselves (shortcuts_dialog.py). The help page is opened through `window.help`, to which the
chat page's "What's this?" buttons are connected here.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from app.ui.help_page import TITLE as HELP_TITLE
from app.ui.help_page import HelpOpener


def build_menus(window) -> None:
    chat = window.chat_page
    file_menu = window.menuBar().addMenu("&File")
    window.new_chat_action = _action(window, file_menu, "New chat", window.new_chat, QKeySequence.StandardKey.New,
                                     "Start a new conversation")
    window.export_md_action = _action(window, file_menu, "Export chat as Markdown…", lambda: window.export_chat("md"),
                                     QKeySequence("Ctrl+E"))
    window.export_json_action = _action(window, file_menu, "Export chat as JSON…",
                                        lambda: window.export_chat("json"), QKeySequence("Ctrl+Shift+E"))
    window.import_action = _action(window, file_menu, "Import chat…", lambda: window.import_chat(),
                                   QKeySequence("Ctrl+Shift+O"), tip="Open a chat exported as JSON, with its alternatives, as a new chat")
    file_menu.addSeparator()
    window.token_action = _action(window, file_menu, "Hugging Face token…", window.ask_token,
                                  QKeySequence("Ctrl+Shift+T"), tip="A token opens gated and private models; it is stored by huggingface_hub")
    window.servers_action = _action(window, file_menu, "Remote engines and API server…",
                                    window.open_server_settings, QKeySequence("Ctrl+Shift+A"))
    file_menu.addSeparator()
    _action(window, file_menu, "Quit", window.close, QKeySequence.StandardKey.Quit)

    chat_menu = window.menuBar().addMenu("&Chat")
    window.stop_action = _action(window, chat_menu, "Stop reply", chat.session.stop, QKeySequence("Ctrl+."),
                                 "Stop the reply being written (Esc in the message box)")
    _action(window, chat_menu, "Write a message", chat.focus_composer, QKeySequence("Ctrl+L"))
    window.choose_model_action = _action(window, chat_menu, "Choose a model…", lambda: _choose_model(window),
                                         QKeySequence("Ctrl+K"), "Open the model picker")
    window.copy_reply_action = _action(window, chat_menu, "Copy last reply", lambda: _copy_last_reply(window),
                                       QKeySequence("Ctrl+Shift+C"), "Copy the last reply of this chat")
    window.regenerate_action = _action(window, chat_menu, "Regenerate last reply", chat.regenerate_last,
                                       QKeySequence("Ctrl+R"),
                                       "Write the last reply again; the earlier one stays as an alternative")
    window.reset_defaults_action = _action(
        window, chat_menu, "Reset to model defaults", chat.reset_to_model_defaults, QKeySequence("Ctrl+Shift+R"),
        tip="This chat's sampling and the load settings as the chosen model was last used with")
    window.show_prompt_action = _action(
        window, chat_menu, "Show prompt", lambda: chat.show_prompt(), QKeySequence("Ctrl+Shift+P"),
        tip="The exact text the model is given for this chat, special tokens included")
    chat_menu.addSeparator()
    window.side_panel_action = chat.side.toggle_action
    chat_menu.addAction(chat.side.toggle_action)
    chat.side.set_shown(window.settings.chat_panel_visible)
    chat.side.visibility_changed.connect(lambda shown: _remember_side_panel(window, shown))

    models_menu = window.menuBar().addMenu("&Models")
    window.rescan_action = _action(window, models_menu, "Rescan model folders", window.library.refresh,
                                   QKeySequence("F5"), tip="Look for new or changed GGUF files")
    window.probe_action = _action(window, models_menu, "Check GPU and memory again", window.machine.refresh,
                                  QKeySequence("Shift+F5"), tip="Probe the GPU backend, devices and free memory again")
    _build_help_menu(window)


def _build_help_menu(window) -> None:
    from app.ui.error_details import copy_error_details
    from app.ui.shortcuts_dialog import open_shortcuts

    window.help = HelpOpener(window)
    window.chat_page.help_requested.connect(window.help.open_at)
    help_menu = window.menuBar().addMenu("&Help")
    window.help_action = _action(window, help_menu, HELP_TITLE, lambda: window.help.open_at(),
                                 QKeySequence.StandardKey.HelpContents,
                                 "What tokens, the context window, sampling, GPU layers and quantization mean")
    window.shortcuts_action = _action(window, help_menu, "Keyboard shortcuts", lambda: open_shortcuts(window),
                                      QKeySequence("Ctrl+/"), "Every command with its keys")
    window.error_details_action = _action(window, help_menu, "Copy error details",
                                          lambda: copy_error_details(window.statusBar()),
                                          QKeySequence("Ctrl+Shift+D"), "The last errors from Hearth's log and the versions, for a bug report")


def _choose_model(window) -> None:
    window.show_page(window.chat_page)
    window.chat_page.load_settings.open_picker()


def _copy_last_reply(window) -> None:
    copied = window.chat_page.copy_last_reply()
    window.statusBar().showMessage("Copied the last reply" if copied else "No reply to copy in this chat", 4000)


def _remember_side_panel(window, shown: bool) -> None:
    window.settings.chat_panel_visible = shown
    window.save_settings()


def _action(window, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(shortcut)
    if tip:
        action.setToolTip(tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action
