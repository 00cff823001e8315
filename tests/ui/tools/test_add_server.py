"""File → Tools and MCP servers → Add server…: the server form opened empty adds a stdio server (command,
arguments, environment) or an HTTP one (URL, headers); its secrets go to the keyring and it is saved off
the GUI thread; a taken name or a bad field is said in the form, whose values stay as typed."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QWidget

from app.tools.config import ServerConfig
from app.tools.permissions import Grants
from app.tools.secrets import PLACEHOLDER, SERVICE, SecretStore
from app.ui.tasks import BackgroundTasks
from app.ui.tools.server_editor import ServerEditor
from app.ui.tools.tool_service import ToolService
from app.ui.tools.tools_dialog import ToolsDialog
from tests.ui.test_journeys import click, named
from tests.ui.tools.test_tool_settings import SlowKeyring
from tests.ui.tools.test_tools_dialog import ROOT, rows

pytest.importorskip("mcp")


def fill(qtbot, editor: QWidget, fields: dict[str, str]) -> None:
    """Type into the form's fields, found by their accessible names."""
    for name, value in fields.items():
        field = named(editor, name, QWidget)
        assert isinstance(field, (QLineEdit, QPlainTextEdit))
        field.clear()
        field.setFocus()
        for number, line in enumerate(value.split("\n")):
            if number:
                qtbot.keyClick(field, Qt.Key.Key_Return)  # (keyClicks types no new line)
            qtbot.keyClicks(field, line)
        assert (field.text() if isinstance(field, QLineEdit) else field.toPlainText()) == value


def add(qtbot, dialog: ToolsDialog, steps) -> None:
    """Add server… and, in the form it opens, `steps(editor)` (which ends it with its Add server button or Cancel)."""
    seen: list[QWidget] = []

    def in_form() -> None:
        editor = QApplication.activeModalWidget()
        assert editor is not None and editor.accessibleName() == "Add server"
        seen.append(editor)
        steps(editor)

    QTimer.singleShot(0, in_form)
    click(qtbot, dialog, "Add server…")
    assert seen, "the form did not open"


def problem(editor: QWidget) -> str:
    return next(w for w in editor.findChildren(QLabel) if w.objectName() == "toolsProblem").text()


def test_adding_stdio_and_http_servers_from_the_empty_form(qtbot, tmp_path: Path) -> None:
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"mcpServers": {"gone": {"command": "/nonexistent/mcp"}}}))
    keyring = SlowKeyring()
    service = ToolService(BackgroundTasks(), servers, Grants(None))
    service.secrets = SecretStore(tmp_path, keyring=keyring)
    dialog = ToolsDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()

    def stdio(editor: QWidget) -> None:
        assert all(f.text() == "" for f in editor.findChildren(QLineEdit))  # empty, not the chosen server's
        assert problem(editor) == "The server needs a name." and not named(editor, "Add server").isEnabled()
        fill(qtbot, editor, {"Name": "gone"})
        assert problem(editor) == "Another server is named gone." and not named(editor, "Add server").isEnabled()
        fill(qtbot, editor, {"Name": "weather", "Command": sys.executable,
                             "Arguments": "-m\ntests.support.mcp_weather",
                             "Environment": f"PYTHONPATH={ROOT}\nWEATHER_API_KEY={PLACEHOLDER}"})
        assert problem(editor) == ("Environment: nothing is kept in the keyring for WEATHER_API_KEY yet: "
                                   "type its value.")
        fill(qtbot, editor, {"Environment": f"PYTHONPATH={ROOT}\nWEATHER_API_KEY=k3y"})
        assert problem(editor) == ""
        click(qtbot, editor, "Add server")

    started = time.monotonic()
    add(qtbot, dialog, stdio)
    assert time.monotonic() - started < 3  # (the slow keyring, 0.5 s a value, is written behind)
    assert [c.name for c in service.configs] == ["gone", "weather"] and service.saving
    qtbot.waitUntil(lambda: not service.saving, timeout=5000)
    assert keyring.threads and threading.main_thread() not in keyring.threads
    assert keyring.values[(SERVICE, "weather/env/WEATHER_API_KEY")] == "k3y"
    saved = json.loads(servers.read_text())["mcpServers"]
    assert list(saved) == ["gone", "weather"] and "k3y" not in servers.read_text()
    assert saved["weather"] == {"command": sys.executable, "args": ["-m", "tests.support.mcp_weather"],
                                "env": {"PYTHONPATH": str(ROOT), "WEATHER_API_KEY": PLACEHOLDER}}
    assert dialog._chosen_server() == "weather" and dialog.problem.text() == ""
    # the real stdio server it names starts, its tools listed
    qtbot.waitUntil(lambda: "ready" in rows(dialog)[1][0], timeout=60000)
    assert rows(dialog)[1][0].startswith("weather (stdio) — ready · 3 tools")
    assert [t.split(" — ")[0] for t in rows(dialog)[1][1]] == ["get_weather", "slow", "crash"]

    def http(editor: QWidget) -> None:
        fill(qtbot, editor, {"Name": "search", "URL": "ftp://example.invalid/mcp"})
        assert problem(editor) == "The URL must start with http:// or https://."
        fill(qtbot, editor, {"URL": "http://127.0.0.1:9/mcp", "Headers": "Authorization: Bearer abc\nX-Team:"})
        assert problem(editor) == ""
        click(qtbot, editor, "Add server")

    add(qtbot, dialog, http)
    qtbot.waitUntil(lambda: not service.saving, timeout=5000)
    assert json.loads(servers.read_text())["mcpServers"]["search"] == {
        "url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": PLACEHOLDER, "X-Team": ""}}
    assert keyring.values[(SERVICE, "search/headers/Authorization")] == "Bearer abc"

    def cancel(editor: QWidget) -> None:
        fill(qtbot, editor, {"Name": "half", "Command": "prog"})
        click(qtbot, editor, "Cancel")

    before = servers.read_text()
    add(qtbot, dialog, cancel)
    assert [c.name for c in service.configs] == ["gone", "weather", "search"] and servers.read_text() == before
    service.close(5)


def test_a_name_taken_meanwhile_is_said_and_nothing_changes(qtbot, tmp_path: Path) -> None:
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"mcpServers": {"gone": {"command": "/nonexistent/mcp"}}}))
    service = ToolService(BackgroundTasks(), servers, Grants(None))
    before = servers.read_text()
    assert service.add_server(ServerConfig("gone", "other")) == (
        "Another server is named gone: give this one another name.")
    assert service.configs == [ServerConfig("gone", "/nonexistent/mcp")] and not service.saving
    assert servers.read_text() == before


def test_the_add_form_offers_both_kinds_and_keeps_what_was_typed(qtbot) -> None:
    editor = ServerEditor(None, {"a"})
    qtbot.addWidget(editor)
    assert editor.windowTitle() == "Add server" and not editor.ok.isEnabled()
    editor.name.setText("b")
    editor.command.setText("prog")
    editor.url.setText("http://localhost:1/mcp")
    assert "not both" in editor.problem.text() and not editor.ok.isEnabled()
    assert editor.command.text() == "prog"  # a bad combination loses nothing typed
    editor.url.setText("")
    editor.args.setPlainText("--port\n8000")
    assert editor.ok.isEnabled() and editor.config() == ServerConfig("b", "prog", ("--port", "8000"))
