"""Add or edit one MCP server (Settings → Tools → Add server… / Edit server…): its name, and either the
program to start (command, arguments one a line, environment NAME=value lines) or its URL (and header
Name: value lines). Adding opens the same form empty.

Secret values stay in the keyring: the form shows `${keyring}` in their place, which keeps them as
they are; a value typed over it is kept in the keyring when saved (app/tools/secrets.py). The keyring
is never read here. OK waits for a valid server, and says what is wrong meanwhile.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.tools.config import ConfigError, ServerConfig
from app.tools.secrets import PLACEHOLDER


def _pairs(text: str, sep: str, what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, found_sep, value = line.partition(sep)
        if not found_sep or not name.strip():
            raise ConfigError(f"{what}, line {number}: write it as NAME{sep}value")
        found[name.strip()] = value.strip() if sep == ":" else value
    return found


def server_from_fields(name: str, command: str, args: str, env: str, url: str, headers: str,
                       taken: set[str], disabled: bool = False, new: bool = False, sse: bool = False) -> ServerConfig:
    """The server the form describes; ConfigError says what is wrong (in the form's words). A `new`
    server has nothing kept in the keyring yet, so a `${keyring}` value would start it without one."""
    name, command, url = name.strip(), command.strip(), url.strip()
    if not name:
        raise ConfigError("the server needs a name")
    if name in taken:
        raise ConfigError(f"another server is named {name}")
    if bool(command) == bool(url):
        raise ConfigError("give either a command (a program to start) or a URL (an HTTP address), not both")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError("the URL must start with http:// or https://")
    if command:
        config = ServerConfig(name, command, tuple(a for a in args.splitlines() if a.strip()),
                              _pairs(env, "=", "Environment"), disabled=disabled)
    else:
        config = ServerConfig(name, url=url, headers=_pairs(headers, ":", "Headers"), disabled=disabled,
                              sse=sse)  # an SSE server edited stays one (its file said "type": "sse")
    if new:
        for what, values in (("Environment", config.env), ("Headers", config.headers)):
            kept = next((key for key, value in values.items() if value == PLACEHOLDER), None)
            if kept is not None:
                raise ConfigError(f"{what}: nothing is kept in the keyring for {kept} yet: type its value")
    return config


ADD_HINT = ("Give a command for a server that runs on this computer (its arguments and environment below), "
            "or the URL of one reached over HTTP (its headers below). Values whose names say key, token, "
            "secret, password or auth are kept in the keyring, not in the file.")
EDIT_HINT = (f"Values shown as {PLACEHOLDER} are kept in the keyring: leave them to keep them, or type a new "
             "value. A change to the command, its arguments, the names of its environment variables or the "
             "URL revokes the server's \"always\" answers.")


def _lines(values: dict[str, str], sep: str) -> str:
    return "\n".join(f"{k}{sep}{v}" for k, v in values.items())


class ServerEditor(QDialog):
    """The form; `config()` is the edited server once accepted. Without a server to edit it is empty
    and adds one ("Add server")."""

    def __init__(self, config: ServerConfig | None, taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.new = config is None
        config = config or ServerConfig("")
        self.original, self.taken = config, taken - {config.name}
        self.setWindowTitle("Add server" if self.new else f"Edit server {config.name}")
        self.setAccessibleName("Add server" if self.new else "Edit server")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = self._line(form, "Name", config.name)
        self.command = self._line(form, "Command", config.command)
        self.args = self._text(form, "Arguments (one a line)", "\n".join(config.args))
        self.env = self._text(form, "Environment (NAME=value lines)", _lines(config.env, "="))
        self.url = self._line(form, "URL", config.url)
        self.headers = self._text(form, "Headers (Name: value lines)", _lines(config.headers, ": "))
        layout.addLayout(form)
        hint = QLabel(ADD_HINT if self.new else EDIT_HINT)
        hint.setWordWrap(True)
        hint.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(hint)
        self.problem = QLabel()
        self.problem.setObjectName("toolsProblem")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if self.new:  # (said on the button itself: it adds, not saves a change)
            self.ok.setText("Add server")
        self.ok.setAccessibleName("Add server" if self.new else "Save server")
        layout.addWidget(self.buttons)
        for field in (self.name, self.command, self.url):
            field.textChanged.connect(self._check)
        for box in (self.args, self.env, self.headers):
            box.textChanged.connect(self._check)
        self._check()
        self.resize(560, 460)

    def _line(self, form: QFormLayout, label: str, value: str) -> QLineEdit:
        field = QLineEdit(value)
        field.setAccessibleName(label)
        form.addRow(label, field)
        return field

    def _text(self, form: QFormLayout, label: str, value: str) -> QPlainTextEdit:
        box = QPlainTextEdit(value)
        box.setAccessibleName(label.split(" (")[0])
        box.setFixedHeight(64)
        form.addRow(label, box)
        return box

    def config(self) -> ServerConfig:
        """The server as the form has it (ConfigError: what is wrong)."""
        return server_from_fields(self.name.text(), self.command.text(), self.args.toPlainText(),
                                  self.env.toPlainText(), self.url.text(), self.headers.toPlainText(),
                                  self.taken, self.original.disabled, self.new, self.original.sse)

    def _check(self) -> None:
        try:
            self.config()
        except ConfigError as exc:
            self.problem.setText(str(exc)[:1].upper() + str(exc)[1:] + ".")
            self.ok.setEnabled(False)
            return
        self.problem.setText("")
        self.ok.setEnabled(True)
