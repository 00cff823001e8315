"""Settings → Tools and MCP servers: the servers (from Hearth's mcp.json), their state and their tools
with the tokens each schema takes, servers added from another app's file, and the "always" answers,
each revocable. A thin dialog over ToolService (app/ui/tools/tool_service.py): starting servers runs
off the GUI thread and the list follows their states as they change."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.tools import app_setup
from app.tools.config import ConfigError
from app.tools.mcp_client import McpTool
from app.ui.file_dialogs import open_file
from app.ui.tools.tool_service import ServerView, ToolService

STATE_WORDS = {"off": "not started", "starting": "starting…", "ready": "ready", "failed": "failed",
               "stopped": "stopped", "disabled": "switched off in the file"}


def schema_tokens(tool: McpTool) -> int:
    """About how many tokens the tool's description takes in every prompt that offers it (a JSON schema
    runs about 3.5 characters a token in the tokenizers of common models)."""
    return max(1, round(len(json.dumps(tool.openai(), ensure_ascii=False)) / 3.5))


def describe(view: ServerView) -> str:
    words = STATE_WORDS.get(view.state, view.state)
    if view.state in ("failed", "stopped") and view.error:
        words += f": {view.error}"
    if view.state == "ready":
        tokens = sum(schema_tokens(t) for t in view.tools)
        words += f" · {len(view.tools)} tool{'s' if len(view.tools) != 1 else ''} · about {tokens:,} tokens"
    return f"{view.name} ({view.transport}) — {words}"


class ToolsDialog(QDialog):
    def __init__(self, service: ToolService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("Tools and MCP servers")
        self.setAccessibleName("Tools and MCP servers")
        layout = QVBoxLayout(self)
        intro = QLabel(f"MCP servers whose tools a chat may use (switch tools on in a chat with its Tools button). "
                       f"They are kept in {service.servers_file}, in the mcp.json shape Claude Desktop, "
                       "LM Studio and Cursor use.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(intro)
        self.servers = QTreeWidget()
        self.servers.setHeaderHidden(True)
        self.servers.setAccessibleName("Tool servers")
        layout.addWidget(self.servers, 2)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setObjectName("toolsProblem")
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        self.import_button = self._button(row, "Add from a file…", "Add the servers of an mcp.json file",
                                          self.import_file)
        for app, path in app_setup.found_in_other_apps():
            self._button(row, f"Import from {app}", f"Add the servers in {path}", lambda p=path: self.import_path(p))
        self.restart_button = self._button(row, "Restart server", "Stop the chosen server and start it again",
                                           self.restart_server)
        self.remove_button = self._button(row, "Remove server", "Remove the chosen server", self.remove_server)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(QLabel("Calls you allowed always (Revoke: they are asked about again):"))
        self.grants = QListWidget()
        self.grants.setAccessibleName("Always allowed")
        layout.addWidget(self.grants, 1)
        grant_row = QHBoxLayout()
        self.revoke_button = self._button(grant_row, "Revoke", "Ask about these calls again", self.revoke)
        grant_row.addStretch(1)
        layout.addLayout(grant_row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(640, 520)
        service.changed.connect(self.refresh)
        self.refresh()
        service.start()  # their states and tools are what this dialog is for

    def _button(self, row: QHBoxLayout, label: str, tip: str, slot) -> QPushButton:
        button = QPushButton(label)
        button.setAccessibleName(label)
        button.setToolTip(tip)
        button.clicked.connect(lambda _=False: slot())
        row.addWidget(button)
        return button

    def refresh(self) -> None:
        chosen = self._chosen_server()
        self.servers.clear()
        for view in self.service.views():
            item = QTreeWidgetItem([describe(view)])
            item.setData(0, Qt.ItemDataRole.UserRole, view.name)
            for tool in view.tools:
                text = f"{tool.name} — about {schema_tokens(tool):,} tokens"
                if tool.name in view.shadowed:
                    text += f" — not offered: {view.shadowed[tool.name]} has a tool of this name"
                child = QTreeWidgetItem([text])
                child.setToolTip(0, tool.description or tool.name)
                item.addChild(child)
            self.servers.addTopLevelItem(item)
            if view.name == chosen:
                self.servers.setCurrentItem(item)
        if not self.service.configs:
            self.servers.addTopLevelItem(QTreeWidgetItem(["No servers yet: add them from a file or another app."]))
        self.show_problem(self.service.config_error)
        self.grants.clear()
        for grant in self.service.grants.list():
            line = QListWidgetItem(grant.describe())
            line.setData(Qt.ItemDataRole.UserRole, grant)
            self.grants.addItem(line)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def _chosen_server(self) -> str:
        item = self.servers.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return str(item.data(0, Qt.ItemDataRole.UserRole) or "") if item is not None else ""

    def import_file(self) -> None:
        chosen = open_file(self, "mcp", "Add MCP servers from a file", "MCP server files (*.json);;All files (*)")
        if chosen:
            self.import_path(Path(chosen))

    def import_path(self, path: Path) -> None:
        try:
            servers, added = app_setup.import_servers(self.service.configs, path)
        except ConfigError as exc:
            self.show_problem(str(exc))
            return
        problem = self.service.set_configs(servers) if added else ""
        self.refresh()
        self.show_problem(problem or ("" if added else f"{path} names no servers."))

    def restart_server(self) -> None:
        name = self._chosen_server()
        if name:
            self.service.restart(name)
            self.refresh()

    def remove_server(self) -> None:
        name = self._chosen_server()
        if name:
            self.show_problem(self.service.remove_server(name))
            self.refresh()

    def revoke(self) -> None:
        item = self.grants.currentItem()
        if item is not None:
            self.service.grants.revoke(item.data(Qt.ItemDataRole.UserRole))
            self.refresh()


def add_tools_action(menu: QMenu, parent: QWidget, service: ToolService | None) -> QAction | None:
    """File → Tools and MCP servers… (none when the window was built without tools)."""
    if service is None:
        return None
    action = QAction("Tools and MCP servers…", parent)
    action.setShortcut(QKeySequence("Ctrl+Shift+M"))
    action.setToolTip("MCP servers whose tools chats may use, their tools, and the calls you allowed always")
    action.triggered.connect(lambda _checked=False: ToolsDialog(service, parent).exec())
    menu.addAction(action)
    return action
