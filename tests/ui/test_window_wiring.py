"""The window's wiring: menus keep their actions in their own object, services are built in one place."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

from PySide6.QtGui import QAction

from app.ui.help_page import HelpOpener
from app.ui.menus import Menus, build_menus
from app.ui.window_parts import WindowParts

APP_UI = Path(__file__).resolve().parents[2] / "app" / "ui"


def menu_bar_actions(window) -> list[QAction]:
    found = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is not None:
            found += [a for a in menu.actions() if not a.isSeparator()]
    return found


def test_building_the_menus_sets_nothing_on_the_window(window):
    parts = WindowParts(**{f.name: getattr(window, f.name) for f in fields(WindowParts) if f.name != "endpoints"},
                        endpoints=window.model_lists.endpoints)
    before = dict(vars(window))
    menus = build_menus(window, window, parts, window.chat_files, window.model_lists)  # a second set of menus
    assert isinstance(menus, Menus)
    assert dict(vars(window)) == before  # every action lives in the Menus object, none is assigned onto the window


def test_no_attribute_of_the_window_is_a_menu_command(window):
    held = {name for name, value in vars(window).items() if isinstance(value, (QAction, HelpOpener))}
    assert held == set()


def test_every_menu_command_is_in_the_menus_object(window):
    kept = [value for value in vars(window.menus).values() if isinstance(value, QAction)]
    assert menu_bar_actions(window) and all(action in kept for action in menu_bar_actions(window))
    assert window.menus.new_chat.text() == "New chat" and window.menus.side_panel is window.chat_page.side.toggle_action


# Services the GUI holds. Only the composition root (application.build_window) makes them; the
# defaults listed under KNOWN are for tests that build one part alone, and must not grow.
SERVICES = {"ConversationStore", "PendingWrites", "EngineService", "EngineClient", "BackgroundTasks",
            "LibraryController", "DownloadManager", "MachineInfo", "EndpointStore", "ApiServerHolder"}
KNOWN = {
    ("services.py", "EngineClient"),  # EngineService's default local engine
    ("models/downloads.py", "BackgroundTasks"),  # its default when none is handed in (tests)
}


def built_services(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in SERVICES:
                found.add(name)
            if name == "load" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "Settings":
                found.add("Settings.load")
    return found


def test_only_build_window_builds_services():
    stray = {(str(path.relative_to(APP_UI)), name)
             for path in APP_UI.rglob("*.py") if path.name != "application.py"
             for name in built_services(path)}
    assert stray - KNOWN == set()
