"""The window's menus: every command as a QAction with its shortcut and a one-line tip.

The actions are kept on the window (window.new_chat_action, …) so tests and other
parts can trigger or disable them.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence


def build_menus(window) -> None:
    chat = window.chat_page
    file_menu = window.menuBar().addMenu("&File")
    window.new_chat_action = _action(window, file_menu, "New chat", window.new_chat, QKeySequence.StandardKey.New,
                                     "Start a new conversation")
    window.export_md_action = _action(window, file_menu, "Export chat as Markdown…", lambda: window.export_chat("md"))
    window.export_json_action = _action(window, file_menu, "Export chat as JSON…",
                                        lambda: window.export_chat("json"))
    window.import_action = _action(window, file_menu, "Import chat…", lambda: window.import_chat(),
                                   tip="Open a chat exported as JSON, with its alternatives, as a new chat")
    file_menu.addSeparator()
    window.token_action = _action(window, file_menu, "Hugging Face token…", window.ask_token,
                                  tip="A token opens gated and private models; it is stored by huggingface_hub")
    window.servers_action = _action(window, file_menu, "Remote engines and API server…",
                                    window.open_server_settings)
    file_menu.addSeparator()
    _action(window, file_menu, "Quit", window.close, QKeySequence.StandardKey.Quit)

    chat_menu = window.menuBar().addMenu("&Chat")
    window.stop_action = _action(window, chat_menu, "Stop reply", chat.stop, QKeySequence("Ctrl+."),
                                 "Stop the reply being written (Esc in the message box)")
    _action(window, chat_menu, "Write a message", chat.focus_composer, QKeySequence("Ctrl+L"))
    window.regenerate_action = _action(window, chat_menu, "Regenerate last reply", chat.regenerate_last,
                                       QKeySequence("Ctrl+R"),
                                       "Write the last reply again; the earlier one stays as an alternative")
    window.reset_defaults_action = _action(
        window, chat_menu, "Reset to model defaults", chat.reset_to_model_defaults,
        tip="This chat's sampling and the load settings as the chosen model was last used with")
    window.show_prompt_action = _action(
        window, chat_menu, "Show prompt", lambda: chat.show_prompt(),
        tip="The exact text the model is given for this chat, special tokens included")

    models_menu = window.menuBar().addMenu("&Models")
    window.rescan_action = _action(window, models_menu, "Rescan model folders", window.library.refresh,
                                   tip="Look for new or changed GGUF files")
    window.probe_action = _action(window, models_menu, "Check GPU and memory again", window.machine.refresh,
                                  tip="Probe the GPU backend, devices and free memory again")


def _action(window, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(shortcut)
    if tip:
        action.setToolTip(tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action
