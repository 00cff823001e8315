"""Settings → Tools and MCP servers: the servers (from Hearth's mcp.json), their state and their tools
with the tokens each schema takes (counted by the loaded model, app/ui/tools/schema_counts.py; an
estimate without one), servers added (in the server form, or from another app's file) or edited, a
failed server retried, and the "always" answers, each revocable. A thin dialog over ToolService
(app/ui/tools/tool_service.py): starting and saving servers runs off the GUI thread and the list follows
their states as they change."""

from __future__ import annotations

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

from app.formatting import counted
from app.tools import app_setup
from app.tools.config import ConfigError
from app.tools.mcp_client import McpTool
from app.ui.file_dialogs import open_file
from app.ui.tools.schema_counts import SchemaCounts, estimate
from app.ui.tools.server_editor import ServerEditor
from app.ui.tools.tool_service import ServerView, ToolService

STATE_WORDS = {"off": "not started", "starting": "starting…", "ready": "ready", "failed": "failed",
               "stopped": "stopped", "disabled": "switched off in the file"}
NO_SERVERS = "No servers yet: add one (Add server…), or add them from a file or another app."


def tokens_words(tools: list[McpTool], counts: SchemaCounts | None = None) -> str:
    """"N tokens" counted by the loaded model, or "about N tokens" (estimated) while none is loaded."""
    exact = [counts.exact(t) if counts is not None else None for t in tools]
    if all(n is not None for n in exact):
        total = sum(n or 0 for n in exact)
        return f"{total:,} token{'s' if total != 1 else ''}"
    return f"about {sum(estimate(t) for t in tools):,} tokens"


def describe(view: ServerView, counts: SchemaCounts | None = None) -> str:
    words = STATE_WORDS.get(view.state, view.state)
    if view.state in ("failed", "stopped") and view.error:
        words += f": {view.error}"
    if view.state == "ready":
        words += f" · {len(view.tools)} tool{'s' if len(view.tools) != 1 else ''} · {tokens_words(view.tools, counts)}"
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
        self.servers.setWordWrap(True)  # a failure's sentence is read whole
        self.servers.itemSelectionChanged.connect(self._enable)
        layout.addWidget(self.servers, 2)
        self.total = QLabel()
        self.total.setAccessibleName("Tokens of the offered tools")
        self.total.setWordWrap(True)
        layout.addWidget(self.total)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setObjectName("toolsProblem")
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        self.add_button = self._button(row, "Add server…", "Add a server: a program to start, or a URL",
                                       self.add_server)
        self.import_button = self._button(row, "Add from a file…", "Add the servers of an mcp.json file",
                                          self.import_file)
        for app, path in app_setup.found_in_other_apps():
            self._button(row, f"Import from {app}", f"Add the servers in {path}", lambda p=path: self.import_path(p))
        self.edit_button = self._button(row, "Edit server…", "Change the chosen server's command, arguments, "
                                        "environment, URL or headers", self.edit_server)
        self.retry_button = self._button(row, "Retry", "Start the chosen failed server again (every failed "
                                         "one when the chosen server did not fail)", self.retry)
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
        self.resize(720, 560)
        self.counts = SchemaCounts(service.engine, self)
        self.counts.changed.connect(self.refresh)
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
        views = self.service.views()
        offered = self.service.offered_tools()
        self.counts.update(offered, [tool for view in views for tool in view.tools])
        self.servers.blockSignals(True)  # (its items go: nothing may look at the chosen one meanwhile)
        self.servers.clear()
        for view in views:
            item = QTreeWidgetItem([describe(view, self.counts)])
            item.setToolTip(0, describe(view, self.counts))
            item.setData(0, Qt.ItemDataRole.UserRole, view.name)
            for tool in view.tools:
                text = f"{tool.name} — {tokens_words([tool], self.counts)}"
                if tool.name in view.shadowed:
                    text += f" — not offered: {view.shadowed[tool.name]} has a tool of this name"
                child = QTreeWidgetItem([text])
                child.setToolTip(0, tool.description or tool.name)
                item.addChild(child)
            self.servers.addTopLevelItem(item)
            if view.name == chosen:
                self.servers.setCurrentItem(item)
        if not self.service.configs:
            self.servers.addTopLevelItem(QTreeWidgetItem([NO_SERVERS]))
        self.servers.blockSignals(False)
        self._show_total(offered)
        if self.service.config_error:
            self.show_problem(self.service.config_error)
        self._enable()
        self.grants.clear()
        for grant in self.service.grants.list():
            line = QListWidgetItem(grant.describe())
            line.setData(Qt.ItemDataRole.UserRole, grant)
            self.grants.addItem(line)

    def _show_total(self, offered: list[McpTool]) -> None:
        if not offered:
            self.total.setText("")
        elif self.counts.total is not None:
            tools = counted(len(offered), "tool")
            self.total.setText(f"A chat with tools on offers {tools}: {self.counts.total:,} tokens "
                               "of every prompt, counted by the loaded model (its template's instructions "
                               "for tools included).")
        else:
            self.total.setText(f"A chat with tools on offers {counted(len(offered), 'tool')}: about "
                               f"{sum(estimate(t) for t in offered):,} tokens of every prompt (an estimate: "
                               "load a model to count them exactly).")
        self.total.setVisible(bool(offered))

    def _enable(self) -> None:
        chosen = self._chosen_server()
        self.edit_button.setEnabled(any(c.name == chosen for c in self.service.configs))
        self.retry_button.setEnabled(bool(self.service.failures()))

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
        if added:
            self.service.set_configs(servers, self.show_problem)
        self.refresh()
        self.show_problem("" if added else f"{path} names no servers.")

    def add_server(self) -> None:
        """The server form, empty; the server it describes is added and saved behind (set_configs)."""
        editor = ServerEditor(None, {c.name for c in self.service.configs}, self)
        if editor.exec() != QDialog.DialogCode.Accepted:
            return
        added = editor.config()
        problem = self.service.add_server(added, self.show_problem)
        self.show_problem(problem)
        self.refresh()
        if not problem:
            self._choose(added.name)

    def _choose(self, name: str) -> None:
        for i in range(self.servers.topLevelItemCount()):
            item = self.servers.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                self.servers.setCurrentItem(item)

    def edit_server(self) -> None:
        name = self._chosen_server()
        config = next((c for c in self.service.configs if c.name == name), None)
        if config is None:
            return
        editor = ServerEditor(config, {c.name for c in self.service.configs}, self)
        if editor.exec() != QDialog.DialogCode.Accepted:
            return
        edited = editor.config()
        if edited == config:
            return
        note = [""]

        def saved(problem: str) -> None:
            self.show_problem(problem or note[0])

        revoked = self.service.edit_server(name, edited, saved)
        if revoked:
            note[0] = (f"{edited.name} changed what it runs, so its {revoked} \"always\" answer"
                       f"{'s were' if revoked != 1 else ' was'} revoked: its calls are asked about again.")
        self.show_problem(note[0])
        self.refresh()

    def retry(self) -> None:
        name = self._chosen_server()
        self.service.retry(name if any(n == name for n, _ in self.service.failures()) else "")
        self.refresh()

    def restart_server(self) -> None:
        name = self._chosen_server()
        if name:
            self.service.restart(name)
            self.refresh()

    def remove_server(self) -> None:
        name = self._chosen_server()
        if name:
            def removed(problem: str) -> None:  # (its grants are revoked after the save: shown again then)
                self.show_problem(problem)
                self.refresh()

            self.service.remove_server(name, removed)
            self.refresh()

    def revoke(self) -> None:
        item = self.grants.currentItem()
        if item is not None:
            def revoked(problem: str) -> None:
                if problem:
                    self.show_problem(problem)
                self.refresh()

            self.service.revoke(item.data(Qt.ItemDataRole.UserRole), revoked)


def _open(service: ToolService, parent: QWidget) -> None:
    dialog = ToolsDialog(service, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # (it counts with the engine while it lives)
    dialog.exec()


def add_tools_action(menu: QMenu, parent: QWidget, service: ToolService | None) -> QAction | None:
    """File → Tools and MCP servers… (none when the window was built without tools)."""
    if service is None:
        return None
    action = QAction("Tools and MCP servers…", parent)
    action.setShortcut(QKeySequence("Ctrl+Shift+M"))
    action.setToolTip("MCP servers whose tools chats may use, their tools, and the calls you allowed always")
    action.triggered.connect(lambda _checked=False: _open(service, parent))
    menu.addAction(action)
    return action
