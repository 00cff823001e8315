"""File → Tools and MCP servers: servers with their state and tools (started off the GUI thread),
servers imported from another app's file, and the "always" answers revoked one by one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from app.tools.permissions import Decision, Grant, Grants
from app.ui.tasks import BackgroundTasks
from app.ui.tools.tool_service import ToolService
from app.ui.tools.tools_dialog import ToolsDialog

pytest.importorskip("mcp")
ROOT = Path(__file__).resolve().parents[3]
WEATHER = {"command": sys.executable, "args": ["-m", "tests.support.mcp_weather"], "env": {"PYTHONPATH": str(ROOT)}}


def rows(dialog: ToolsDialog) -> list[tuple[str, list[str]]]:
    tree = dialog.servers
    return [(tree.topLevelItem(i).text(0), [tree.topLevelItem(i).child(j).text(0)
                                            for j in range(tree.topLevelItem(i).childCount())])
            for i in range(tree.topLevelItemCount())]


def test_servers_states_tools_tokens_import_and_revoke(qtbot, tmp_path: Path) -> None:
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"mcpServers": {"weather": WEATHER, "gone": {"command": "/nonexistent/mcp"}}}))
    grants = Grants(tmp_path / "grants.json")
    grants.record(Decision.ALWAYS_TOOL, "weather", "get_weather", "fp1")
    grants.record(Decision.ALWAYS_SERVER, "other", "any", "fp2")
    service = ToolService(BackgroundTasks(), servers, grants)
    dialog = ToolsDialog(service)
    qtbot.addWidget(dialog)
    assert rows(dialog)[0][0].startswith("weather (stdio) — starting")  # it opens at once; they start behind it
    qtbot.waitUntil(lambda: "ready" in rows(dialog)[0][0] and "failed" in rows(dialog)[1][0], timeout=60000)
    (weather, tools), (gone, _) = rows(dialog)
    assert "3 tools · about" in weather and weather.endswith("tokens")
    assert [t.split(" — ")[0] for t in tools] == ["get_weather", "slow", "crash"]
    assert all(t.split(" — about ")[1].split()[0].isdigit() for t in tools)
    assert gone == "gone (stdio) — failed: there is no program /nonexistent/mcp"

    other_app = tmp_path / "cursor-mcp.json"
    other_app.write_text(json.dumps({"mcpServers": {"weather": WEATHER}}))
    dialog.import_path(other_app)
    assert [s.name for s in service.configs] == ["weather", "gone", "weather (2)"]
    qtbot.waitUntil(lambda: not service.saving, timeout=5000)  # saved behind (the keyring may be slow)
    assert "weather (2)" in json.loads(servers.read_text())["mcpServers"]  # saved in Hearth's mcp.json
    qtbot.waitUntil(lambda: all("ready" in r[0] for r in rows(dialog) if r[0].startswith("weather")), timeout=60000)
    second = dict(rows(dialog))  # the same tools twice: the second server's are named as not offered
    second_tools = next(tools for row, tools in second.items() if row.startswith("weather (2)"))
    assert all(t.endswith("— not offered: weather has a tool of this name") for t in second_tools)
    assert not any("not offered" in t for t in next(tools for row, tools in second.items()
                                                    if row.startswith("weather (stdio)")))

    (tmp_path / "bad.json").write_text("{}")
    dialog.import_path(tmp_path / "bad.json")
    assert "mcpServers" in dialog.problem.text() and len(service.configs) == 3

    assert [dialog.grants.item(i).text() for i in range(dialog.grants.count())] == [
        "get_weather on weather", "every tool of other"]
    dialog.grants.setCurrentRow(0)
    dialog.revoke_button.click()  # written off the GUI thread, then the list is shown again
    qtbot.waitUntil(lambda: dialog.grants.count() == 1, timeout=5000)
    assert Grants(tmp_path / "grants.json").list() == [Grant("other", "", "fp2")]  # revoked on disk too
    service.close(5)


def test_no_servers_yet_says_how_to_add_them(qtbot, tmp_path: Path) -> None:
    service = ToolService(BackgroundTasks(), tmp_path / "mcp.json", Grants(None))
    dialog = ToolsDialog(service)
    qtbot.addWidget(dialog)
    assert rows(dialog) == [("No servers yet: add one (Add server…), or add them from a file or another app.", [])]


def test_removing_a_server_revokes_its_always_answers(qtbot, tmp_path: Path) -> None:
    """A server added later under the removed one's name must be asked about again."""
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"mcpServers": {"gone": {"command": "/nonexistent/mcp"}, "kept": WEATHER}}))
    grants = Grants(tmp_path / "grants.json")
    grants.record(Decision.ALWAYS_SERVER, "gone", "any", "fp1")
    grants.record(Decision.ALWAYS_TOOL, "kept", "get_weather", "fp2")
    service = ToolService(BackgroundTasks(), servers, grants)
    dialog = ToolsDialog(service)
    qtbot.addWidget(dialog)
    dialog.servers.setCurrentItem(dialog.servers.topLevelItem(0))
    dialog.remove_button.click()
    assert [s.name for s in service.configs] == ["kept"]
    qtbot.waitUntil(lambda: Grants(tmp_path / "grants.json").list() == [Grant("kept", "get_weather", "fp2")],
                    timeout=5000)  # saved, then the grants written, off the GUI thread
    assert [dialog.grants.item(i).text() for i in range(dialog.grants.count())] == ["get_weather on kept"]
    service.close(5)


def test_a_crashed_server_is_restarted_by_restart_and_when_a_chat_sends(qtbot, tmp_path: Path) -> None:
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"mcpServers": {"weather": WEATHER}}))
    service = ToolService(BackgroundTasks(), servers, Grants(None))
    dialog = ToolsDialog(service)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "ready" in rows(dialog)[0][0], timeout=60000)

    def crash() -> None:
        hub = service.hub
        assert hub is not None
        tool = hub.find("crash")
        assert tool is not None
        hub.call(tool, {}, timeout=5)  # the server's process ends
        qtbot.waitUntil(lambda: hub.servers["weather"].state == "stopped", timeout=10000)
        dialog.refresh()
        assert rows(dialog)[0][0].startswith("weather (stdio) — stopped")

    crash()
    dialog.servers.setCurrentItem(dialog.servers.topLevelItem(0))
    dialog.restart_button.click()
    qtbot.waitUntil(lambda: "ready" in rows(dialog)[0][0], timeout=60000)
    assert service.hub is not None and service.hub.find("get_weather") is not None

    crash()
    service.start()  # what a reply in a chat with tools on does first
    hub = service.ready_hub()
    assert hub is not None and hub.servers["weather"].state == "ready"
    dialog.refresh()
    assert "ready" in rows(dialog)[0][0]
    service.close(5)
