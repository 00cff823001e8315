"""Help → Copy error details: the last errors of Hearth's log and the versions, on the clipboard."""

from __future__ import annotations

import platform
import sys

import pytest
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

import app
from app import logs


@pytest.fixture
def log_file():
    path = logs.setup()
    yield path
    logs.stop()


def help_action(window, text: str):
    menus = {menu.title().replace("&", ""): menu for menu in window.menuBar().findChildren(QMenu)}
    return next(a for a in menus["Help"].actions() if a.text() == text)


def test_copy_error_details_has_the_failed_load_and_the_versions(qtbot, log_file, window, broken_models):
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(window.engine.load_failed, timeout=30000):
        window.chat_page.load_path(str(broken_models["truncated"]))
    help_action(window, "Copy error details").trigger()
    copied = QGuiApplication.clipboard().text()
    assert "could not load truncated.gguf" in copied
    assert f"Hearth: {app.__version__}" in copied and f"Python: {sys.version.split()[0]}" in copied
    assert f"Qt: {qVersion()}" in copied and "llama-cpp-python: 0." in copied
    assert f"OS: {platform.platform()}" in copied and "CPU: " in copied
    assert str(log_file) in copied
    assert "Copied error details" in window.statusBar().currentMessage()


def test_with_no_errors_it_says_so(qtbot, log_file, window):
    window.menus.error_details.trigger()
    assert "No errors in the log." in QGuiApplication.clipboard().text()
    assert "no errors" in window.statusBar().currentMessage()
