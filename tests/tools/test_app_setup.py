"""The app's mcp.json: read, saved, servers imported from other apps' files, and the chats with tools on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.tools import app_setup
from app.tools.config import ConfigError, ServerConfig


def test_servers_are_saved_in_the_shape_other_apps_read(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    servers = [ServerConfig("files", command="npx", args=("-y", "server-files"), env={"ROOT": "/tmp"}),
               ServerConfig("web", url="https://example.test/mcp", headers={"X-Team": "a"})]
    app_setup.save_servers(servers, path)
    assert json.loads(path.read_text()) == {"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "server-files"], "env": {"ROOT": "/tmp"}},
        "web": {"url": "https://example.test/mcp", "headers": {"X-Team": "a"}}}}
    assert app_setup.read_servers(path) == (servers, "")
    assert app_setup.read_servers(tmp_path / "none.json") == ([], "")


def test_a_damaged_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"x": {}}}')
    servers, problem = app_setup.read_servers(path)
    assert servers == [] and 'server "x" needs either "command"' in problem
    assert path.read_text() == '{"mcpServers": {"x": {}}}'


def test_importing_from_claude_desktop_adds_and_renames_nothing_is_overwritten(tmp_path: Path,
                                                                               monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    claude = tmp_path / ".config/Claude/claude_desktop_config.json"
    claude.parent.mkdir(parents=True)
    claude.write_text(json.dumps({"globalShortcut": "", "mcpServers": {
        "weather": {"command": "uvx", "args": ["weather"]}, "git": {"command": "git-mcp"}}}))
    assert app_setup.found_in_other_apps() == [("Claude Desktop", claude)]
    mine = [ServerConfig("weather", command="python")]
    merged, added = app_setup.import_servers(mine, claude)
    assert added == ["weather (2)", "git"]
    assert [s.name for s in merged] == ["weather", "weather (2)", "git"] and merged[0] == mine[0]
    (tmp_path / "bad.json").write_text("[1]")
    with pytest.raises(ConfigError, match="mcpServers"):
        app_setup.import_servers(mine, tmp_path / "bad.json")


def test_tools_are_off_in_a_chat_until_switched_on_and_remembered(tmp_path: Path) -> None:
    path = tmp_path / "tool_chats.json"
    chats = app_setup.ToolChats(path)
    assert not chats.on(4)
    chats.set(4, True)
    chats.set(0, True)  # no chat: nothing to remember
    assert app_setup.ToolChats(path).on(4) and not app_setup.ToolChats(path).on(0)
    chats.set(4, False)
    assert not app_setup.ToolChats(path).on(4)
    path.write_text("not json")
    assert not app_setup.ToolChats(path).on(4)
