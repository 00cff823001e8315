"""Settings → Tools beyond listing: a server that fails to start is said once and backed off (not
started again on every send), retried with Retry; servers edited (grants revoked when what the server
runs changed); saving (the keyring) off the GUI thread; schema tokens counted by the loaded model."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QWidget

from app import paths
from app.tools import app_setup
from app.tools.permissions import Decision, Grant, Grants
from app.tools.secrets import PLACEHOLDER, SERVICE, SecretStore
from app.ui.tasks import BackgroundTasks
from app.ui.tools import tool_service
from app.ui.tools.tool_service import ToolService
from app.ui.tools.tools_dialog import ToolsDialog
from tests.support.reply_model import write_replies_model
from tests.support.tool_model import TEMPLATE, write_weather_model
from tests.ui.test_journeys import choose_model, click, named, settle, type_and_send, wait_reply
from tests.ui.tools.test_tools_dialog import WEATHER, rows

pytest.importorskip("mcp")
# a stdio server that exits at once, saying why on its stderr
BROKEN = {"command": sys.executable, "args": ["-c", "import sys; print('no API key given', file=sys.stderr); "
                                                    "sys.exit(3)"]}


def write_hello_model(path: Path) -> Path:
    return write_replies_model(path, TEMPLATE, ["<|im_start|>", "<|im_end|>", "<|answer|>"],
                               [("<|im_start|>assistant\n", ["Hello there."])])


def test_a_failed_server_is_said_once_not_started_again_on_each_send_and_retried(make_window, qtbot):
    model = write_hello_model(paths.models_dir() / "hello.gguf")
    app_setup.servers_path().write_text(json.dumps({"mcpServers": {"broken": BROKEN}}), encoding="utf-8")
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, model)
    click(qtbot, page, "Use tools in this chat")
    qtbot.waitUntil(lambda: "failed to start" in page.notice.text(), timeout=30000)
    assert page.notice.text() == (
        f"The tool server broken failed to start: {Path(sys.executable).name} ended before it answered (it said: "
        "no API key given). Its tools are left out until you retry it (File → Tools and MCP servers…).")
    hub = window.tools.hub
    failed = hub.servers["broken"]

    page.show_notice("")
    for text in ("Hi", "Hi again"):
        started = time.monotonic()
        type_and_send(qtbot, page, text)
        wait_reply(qtbot, window)
        assert time.monotonic() - started < 10
        assert window.tools.hub is hub and hub.servers["broken"] is failed  # not started again
        assert failed.state == "failed" and page.notice.text() == ""  # and not said again

    dialog = ToolsDialog(window.tools, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert rows(dialog)[0][0].startswith(f"broken (stdio) — failed: {Path(sys.executable).name} ended before it "
                                         "answered (it said: no API key given)")
    click(qtbot, dialog, "Retry")
    qtbot.waitUntil(lambda: hub.servers["broken"] is not failed and hub.servers["broken"].state == "failed",
                    timeout=30000)
    qtbot.waitUntil(lambda: "failed to start" in page.notice.text(), timeout=5000)  # a new failure: said again
    dialog.close()


def test_a_failed_server_is_tried_again_by_a_send_after_the_back_off(qtbot, tmp_path: Path, monkeypatch) -> None:
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"mcpServers": {"broken": BROKEN}}))
    service = ToolService(BackgroundTasks(), servers, Grants(None))
    service.start()
    hub = service.ready_hub(20)
    assert hub is not None and hub.servers["broken"].state == "failed"
    first = hub.servers["broken"]
    service.start()  # a send soon after: no new start
    assert hub.servers["broken"] is first and service.ready_hub(0.1) is hub
    monkeypatch.setattr(tool_service, "RETRY_AFTER_S", 0.0)
    service.start()  # the back-off has passed: started again (behind)
    assert hub.servers["broken"].state == "starting"
    assert service.ready_hub(20) is hub and hub.servers["broken"] is not first
    assert hub.servers["broken"].state == "failed"
    service.close(5)


class SlowKeyring:
    """A keyring that takes its time, and notes on which thread it was asked."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.threads: list[threading.Thread] = []

    def set_password(self, service: str, ref: str, value: str) -> None:
        self.threads.append(threading.current_thread())
        time.sleep(0.5)
        self.values[(service, ref)] = value

    def get_password(self, service: str, ref: str) -> str | None:
        self.threads.append(threading.current_thread())
        return self.values.get((service, ref))


def edit(qtbot, dialog: ToolsDialog, changes: dict[str, str]) -> None:
    """Edit server… on the chosen server: set the form's fields by name, then Save server."""
    def fill() -> None:
        editor = QApplication.activeModalWidget()
        assert editor is not None and editor.accessibleName() == "Edit server"
        for name, value in changes.items():
            field = named(editor, name, QWidget)
            field.setText(value) if isinstance(field, QLineEdit) else field.setPlainText(value)
            assert isinstance(field, (QLineEdit, QPlainTextEdit))
        click(qtbot, editor, "Save server")

    QTimer.singleShot(0, fill)
    click(qtbot, dialog, "Edit server…")


def test_editing_a_server_saves_off_the_gui_thread_keeps_secrets_and_revokes_grants_when_it_changed(
        qtbot, tmp_path: Path) -> None:
    servers = tmp_path / "mcp.json"
    keyring = SlowKeyring()
    secret = {"command": "/nonexistent/mcp", "args": ["--fast"], "env": {"API_KEY": PLACEHOLDER, "MODE": "a"}}
    servers.write_text(json.dumps({"mcpServers": {"search": secret}}))
    keyring.values[(SERVICE, "search/env/API_KEY")] = "s3cret"
    grants = Grants(tmp_path / "grants.json")
    service = ToolService(BackgroundTasks(), servers, grants)
    service.secrets = SecretStore(tmp_path, keyring=keyring)
    fingerprint = service.configs[0].fingerprint
    grants.record(Decision.ALWAYS_SERVER, "search", "any", fingerprint)
    dialog = ToolsDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.servers.setCurrentItem(dialog.servers.topLevelItem(0))

    started = time.monotonic()
    edit(qtbot, dialog, {"Environment": "API_KEY=new-key\nMODE=b"})  # values only: still the same server
    assert time.monotonic() - started < 0.4  # the slow keyring is written behind
    qtbot.waitUntil(lambda: not service.saving, timeout=5000)
    assert keyring.values[(SERVICE, "search/env/API_KEY")] == "new-key"
    assert keyring.threads and threading.main_thread() not in keyring.threads
    saved = json.loads(servers.read_text())["mcpServers"]["search"]
    assert saved["env"] == {"API_KEY": PLACEHOLDER, "MODE": "b"} and "new-key" not in servers.read_text()
    assert grants.list() == [Grant("search", "", fingerprint)] and dialog.problem.text() == ""

    dialog.servers.setCurrentItem(dialog.servers.topLevelItem(0))
    edit(qtbot, dialog, {"Arguments": "--slow"})  # what it runs changed: its grant no longer covers it
    assert dialog.problem.text() == ('search changed what it runs, so its 1 "always" answer was revoked: '
                                     "its calls are asked about again.")
    qtbot.waitUntil(lambda: grants.list() == [] and Grants(tmp_path / "grants.json").list() == [],
                    timeout=5000)  # revoked off the GUI thread
    qtbot.waitUntil(lambda: not service.saving, timeout=5000)
    saved = json.loads(servers.read_text())["mcpServers"]["search"]
    assert saved["args"] == ["--slow"] and saved["env"]["API_KEY"] == PLACEHOLDER
    assert dialog.problem.text().startswith("search changed what it runs")  # still said once saved

    dialog.servers.setCurrentItem(dialog.servers.topLevelItem(0))
    edit(qtbot, dialog, {"Name": "web"})  # renamed: its secret goes with it
    qtbot.waitUntil(lambda: not service.saving, timeout=5000)
    assert list(json.loads(servers.read_text())["mcpServers"]) == ["web"]
    assert keyring.values[(SERVICE, "web/env/API_KEY")] == "new-key"
    service.close(5)


def test_the_editor_says_what_is_wrong_and_waits_for_a_valid_server(qtbot) -> None:
    from app.tools.config import ServerConfig
    from app.ui.tools.server_editor import ServerEditor

    editor = ServerEditor(ServerConfig("a", "prog"), {"a", "b"})
    qtbot.addWidget(editor)
    assert editor.ok.isEnabled()
    editor.name.setText("b")
    assert not editor.ok.isEnabled() and editor.problem.text() == "Another server is named b."
    editor.name.setText("a")
    editor.url.setText("http://localhost:1/mcp")
    assert not editor.ok.isEnabled() and "not both" in editor.problem.text()
    editor.command.setText("")
    editor.headers.setPlainText("Authorization: Bearer x\nbroken line")
    assert editor.problem.text() == "Headers, line 2: write it as NAME:value."
    editor.headers.setPlainText("Authorization: Bearer x")
    assert editor.ok.isEnabled() and editor.config() == ServerConfig(
        "a", url="http://localhost:1/mcp", headers={"Authorization": "Bearer x"})


def test_schema_tokens_are_counted_by_the_loaded_model_and_estimated_without_one(make_window, qtbot):
    model = write_weather_model(paths.models_dir() / "weather-tools.gguf")
    app_setup.servers_path().write_text(json.dumps({"mcpServers": {"weather": WEATHER}}), encoding="utf-8")
    window = make_window()
    settle(qtbot, window)
    dialog = ToolsDialog(window.tools, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "ready" in rows(dialog)[0][0], timeout=60000)
    server, tools = rows(dialog)[0]
    assert server.endswith("tokens") and "· about " in server and all(" — about " in t for t in tools)
    assert "an estimate: load a model" in dialog.total.text()

    choose_model(qtbot, window, model)  # counted now, with this model's template and tokenizer
    qtbot.waitUntil(lambda: "about" not in rows(dialog)[0][0], timeout=20000)
    server, tools = rows(dialog)[0]
    counts = [int(t.split(" — ")[1].split()[0].replace(",", "")) for t in tools]
    assert all(n > 0 for n in counts) and all(" — about " not in t for t in tools)
    assert server.endswith(f"· 3 tools · {sum(counts):,} tokens")
    total = dialog.counts.total
    assert total is not None and total > sum(counts)  # the template's words about tools come with them
    assert dialog.total.text().startswith(f"A chat with tools on offers 3 tools: {total:,} tokens")

    window.engine.eject()
    qtbot.waitUntil(lambda: "about" in rows(dialog)[0][0], timeout=20000)
    dialog.close()
