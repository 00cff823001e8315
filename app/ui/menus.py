"""The window's menus: every command as a QAction with its shortcut and a one-line tip.

The actions are kept in one `Menus` object that the window owns (window.menus.new_chat, …), so
tests and other parts can trigger or disable them; nothing is set on the window itself. Each
command calls the part that does the work (the chat page, the library, a dialog); the window
is asked only for what is its own: showing a page, a new chat, the status line, quitting.
Help → Keyboard shortcuts lists the actions from the actions themselves (shortcuts_dialog.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar, QStatusBar, QWidget

from app.ui.chat_files import ChatFiles
from app.ui.error_details import copy_error_details
from app.ui.help_page import TITLE as HELP_TITLE
from app.ui.help_page import HelpOpener
from app.ui.hub_token import ask_token
from app.ui.model_lists import ModelLists
from app.ui.probs_setting import add_keep_probs_action
from app.ui.runtime_settings import RuntimeSettingsDialog
from app.ui.server_settings import ServerSettingsDialog
from app.ui.shortcuts_dialog import open_shortcuts
from app.ui.tools.tools_dialog import add_tools_action
from app.ui.window_parts import WindowParts


class MenuHost(Protocol):
    """What the menus need of the main window: its own jobs, nothing of its parts."""

    def menuBar(self) -> QMenuBar: ...
    def statusBar(self) -> QStatusBar: ...
    def close(self) -> bool: ...
    def show_page(self, page: QWidget) -> None: ...
    def new_chat(self) -> None: ...
    def save_settings(self) -> None: ...


@dataclass
class Menus:
    """Every menu command of the window, by what it does."""

    new_chat: QAction
    export_md: QAction
    export_json: QAction
    import_chat: QAction
    hub_token: QAction
    servers: QAction
    quit: QAction
    stop: QAction
    write_message: QAction
    choose_model: QAction
    copy_reply: QAction
    regenerate: QAction
    reset_defaults: QAction
    show_prompt: QAction
    side_panel: QAction  # the chat page's own toggle, listed in the Chat menu
    rescan: QAction
    probe: QAction
    help: QAction
    shortcuts: QAction
    error_details: QAction
    help_opener: HelpOpener  # the one help window, which the chat page's "What's this?" buttons open too
    runtimes: QAction | None = None  # Settings → Engine runtimes (a managed llama-server)
    keep_token_probs: QAction | None = None  # Chat → Keep token probabilities (probs_setting.py)
    tools: QAction | None = None  # File → Tools and MCP servers (ui/tools/tools_dialog.py)


def build_menus(window: MenuHost, parent: QMainWindow, parts: WindowParts, chat_files: ChatFiles,
                model_lists: ModelLists) -> Menus:
    """The menu bar of `window`; the actions are children of `parent` (the window), so their shortcuts work."""
    chat = parts.chat_page
    status = window.statusBar()

    def add(menu: QMenu, text: str, slot: Callable[[], object], shortcut: QKeySequence | QKeySequence.StandardKey,
            tip: str = "") -> QAction:
        action = QAction(text, parent)
        action.setShortcut(shortcut)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def choose_model() -> None:
        window.show_page(chat)
        chat.load_settings.open_picker()

    def copy_reply() -> None:
        copied = chat.copy_last_reply()
        status.showMessage("Copied the last reply" if copied else "No reply to copy in this chat", 4000)

    def open_server_settings() -> None:
        ServerSettingsDialog(parts.engine.client, parts.api_server, parts.endpoints, parts.tasks, parent).exec()
        model_lists.refresh_remote()  # endpoints may have been added or removed

    def open_runtime_settings() -> None:
        RuntimeSettingsDialog(parts.settings, parts.tasks, parent).exec()

    def remember_side_panel(shown: bool) -> None:
        parts.settings.chat_panel_visible = shown
        window.save_settings()

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    new_chat = add(file_menu, "New chat", window.new_chat, QKeySequence.StandardKey.New, "Start a new conversation")
    export_md = add(file_menu, "Export chat as Markdown…", lambda: chat_files.export("md"), QKeySequence("Ctrl+E"))
    export_json = add(file_menu, "Export chat as JSON…", lambda: chat_files.export("json"),
                      QKeySequence("Ctrl+Shift+E"))
    import_chat = add(file_menu, "Import chat…", chat_files.import_file, QKeySequence("Ctrl+Shift+O"),
                      "Open a chat exported as JSON, with its alternatives, as a new chat")
    file_menu.addSeparator()
    hub_token = add(file_menu, "Hugging Face token…", lambda: ask_token(parent, parts.tasks, status),
                    QKeySequence("Ctrl+Shift+T"),
                    "A token opens gated and private models; it is stored by huggingface_hub")
    servers = add(file_menu, "Remote engines and API server…", open_server_settings, QKeySequence("Ctrl+Shift+A"))
    runtimes = add(file_menu, "Engine runtimes…", open_runtime_settings, QKeySequence("Ctrl+Shift+G"),
                   "A llama-server (a newer llama.cpp) for models the built-in one cannot run")
    tools = add_tools_action(file_menu, parent, parts.tools)
    file_menu.addSeparator()
    quit_action = add(file_menu, "Quit", window.close, QKeySequence.StandardKey.Quit)

    chat_menu = bar.addMenu("&Chat")
    stop = add(chat_menu, "Stop reply", chat.session.stop, QKeySequence("Ctrl+."),
               "Stop the reply being written (Esc in the message box)")
    write_message = add(chat_menu, "Write a message", chat.focus_composer, QKeySequence("Ctrl+L"))
    choose = add(chat_menu, "Choose a model…", choose_model, QKeySequence("Ctrl+K"), "Open the model picker")
    copy = add(chat_menu, "Copy last reply", copy_reply, QKeySequence("Ctrl+Shift+C"),
               "Copy the last reply of this chat")
    regenerate = add(chat_menu, "Regenerate last reply", chat.regenerate_last, QKeySequence("Ctrl+R"),
                     "Write the last reply again; the earlier one stays as an alternative")
    reset_defaults = add(chat_menu, "Reset to model defaults", chat.reset_to_model_defaults,
                         QKeySequence("Ctrl+Shift+R"),
                         "This chat's sampling and the load settings as the chosen model was last used with")
    show_prompt = add(chat_menu, "Show prompt", chat.show_prompt, QKeySequence("Ctrl+Shift+P"),
                      "The exact text the model is given for this chat, special tokens included")
    chat_menu.addSeparator()
    chat_menu.addAction(chat.side.toggle_action)
    keep_probs = add_keep_probs_action(chat_menu, parent, parts.settings, window.save_settings)
    chat.side.set_shown(parts.settings.chat_panel_visible)
    chat.side.visibility_changed.connect(remember_side_panel)

    models_menu = bar.addMenu("&Models")
    rescan = add(models_menu, "Rescan model folders", parts.library.refresh, QKeySequence("F5"),
                 "Look for new or changed GGUF files")
    probe = add(models_menu, "Check GPU and memory again", parts.machine.refresh, QKeySequence("Shift+F5"),
                "Probe the GPU backend, devices and free memory again")

    help_opener = HelpOpener(parent)
    chat.help_requested.connect(help_opener.open_at)
    help_menu = bar.addMenu("&Help")
    help_action = add(help_menu, HELP_TITLE, help_opener.open_at, QKeySequence.StandardKey.HelpContents,
                      "What tokens, the context window, sampling, GPU layers and quantization mean")
    shortcuts = add(help_menu, "Keyboard shortcuts", lambda: open_shortcuts(parent), QKeySequence("Ctrl+/"),
                    "Every command with its keys")
    error_details = add(help_menu, "Copy error details", lambda: copy_error_details(status),
                        QKeySequence("Ctrl+Shift+D"),
                        "The last errors from Hearth's log and the versions, for a bug report")
    return Menus(new_chat, export_md, export_json, import_chat, hub_token, servers, quit_action, stop, write_message,
                 choose, copy, regenerate, reset_defaults, show_prompt, chat.side.toggle_action, rescan, probe,
                 help_action, shortcuts, error_details, help_opener, runtimes=runtimes, keep_token_probs=keep_probs,
                 tools=tools)
