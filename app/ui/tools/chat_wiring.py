"""Tools in the chat page: the chat's Tools switch, the approval dialog for each call, and the calls
shown in the reply's card while it is written. Made once in build_window (the composition root)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton

from app.store.records import ChatRecord
from app.tools.mcp_client import START_TIMEOUT_S
from app.ui.chat.chat_page import ChatPage
from app.ui.tools.approval_dialog import ApprovalDialog
from app.ui.tools.tool_replies import Question, ToolReplies
from app.ui.tools.tool_service import ToolService

NO_SERVERS = "No tool servers yet: File → Tools and MCP servers… adds one (or imports them from another app)."


def failure_line(failures: list[tuple[str, str]]) -> str:
    """One plain line for servers that failed to start (the chat says each failure once)."""
    if len(failures) == 1:
        name, why = failures[0]
        return (f"The tool server {name} failed to start: {why}. Its tools are left out until you retry it "
                "(File → Tools and MCP servers…).")
    names = ", ".join(name for name, _ in failures[:-1]) + f" and {failures[-1][0]}"
    return (f"The tool servers {names} failed to start; their tools are left out until you retry them "
            "(File → Tools and MCP servers… says why).")


def starting_line(names: list[str]) -> str:
    """The chat's line while a reply waits for servers to start."""
    which = f"MCP server {names[0]}" if len(names) == 1 else "MCP servers " + ", ".join(names)
    return f"Starting {which}… (it may take up to {START_TIMEOUT_S:g} s; Stop cancels this reply)"


class ChatTools(QObject):
    """Made with the page as its parent: it lives as long as the page."""

    def __init__(self, page: ChatPage, service: ToolService) -> None:
        super().__init__(page)
        self.page = page
        self.service = service
        self.replies = ToolReplies(service, page.engine, page.session, self)
        page.session.use_engine(self.replies)  # its replies and counts go through the chat's tools
        self.dialogs: dict[int, ApprovalDialog] = {}  # by id(question)
        self.button = QPushButton("Tools off")
        self.button.setCheckable(True)
        self.button.setAccessibleName("Use tools in this chat")
        self.button.setToolTip("Let the model call the tools of your MCP servers in this chat (each call is "
                               "asked about unless you allowed it always)")
        page.composer.buttons.insertWidget(page.composer.buttons.count() - 1, self.button)
        self.button.toggled.connect(self._switched)
        page.session.opened.connect(self._chat_opened)
        self.replies.asked.connect(self._ask)
        self.replies.answered.connect(self._answered)
        self.replies.calls_changed.connect(self._calls_changed)
        self.replies.starting.connect(self._starting)
        service.changed.connect(self._servers_changed)
        self._offered = ""

    def _chat_opened(self, chat: ChatRecord | None) -> None:
        if chat is not None and self.replies.pending_new_chat and not self.page.session.conversation.messages:
            self.service.chats.set(chat.id, True)  # switched on before its first Send made the chat
        self.button.blockSignals(True)
        self.button.setChecked(chat is not None and self.service.chats.on(chat.id))
        self.button.setText("Tools on" if self.button.isChecked() else "Tools off")
        self.button.blockSignals(False)
        self.replies.pending_new_chat = False

    def _switched(self, on: bool) -> None:
        self.replies.set_enabled(self.page.session.chat_id, on)
        self.button.setText("Tools on" if on else "Tools off")
        self.page.session.request_count()
        if on and not self.service.configs:
            self.page.show_notice(self.service.config_error or NO_SERVERS)
        elif self.page.notice.text() == NO_SERVERS:
            self.page.show_notice("")
        self._tell_failures()

    def _tell_failures(self) -> None:
        """In a chat with tools on, say (once) that a server failed to start."""
        chat = self.page.session.chat_id
        if (self.replies.enabled(chat) if chat else self.replies.pending_new_chat):
            failures = self.service.untold_failures()
            if failures:
                self.page.show_notice(failure_line(failures))

    def _servers_changed(self) -> None:
        """Servers became ready (or stopped): the meter counts the schemas now on offer."""
        self._tell_failures()
        offered = self.replies.offered()
        if offered != self._offered:
            self._offered = offered
            self.page.session.request_count()

    def _starting(self, names: list[str]) -> None:
        if names:
            self.page.show_notice(starting_line(names))
        elif self.page.notice.text().startswith("Starting MCP server"):
            self.page.show_notice("")

    def _ask(self, question: Question) -> None:
        dialog = ApprovalDialog(question, self.page.window())
        self.dialogs[id(question)] = dialog
        key = id(question)
        dialog.finished.connect(lambda _code: self.dialogs.pop(key, None))
        dialog.open()
        self.page.show_notice(f"Waiting for you to allow or deny {question.call.name} (on {question.server}).")

    def _answered(self, question: Question) -> None:
        if self.page.notice.text().startswith("Waiting for you to allow"):
            self.page.show_notice("")
        dialog = self.dialogs.pop(id(question), None)
        if dialog is not None:
            dialog.reject()

    def _calls_changed(self, record_id: int, pairs: object) -> None:
        messages = self.page.session.messages
        for row, item in enumerate(messages.items()):
            if item.record_id == record_id:
                messages.update(row, tools=pairs)
