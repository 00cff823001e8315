"""The question asked before a tool runs: the tool, its server and its arguments (editable), and four answers.

Nothing runs unless the user says so: closing the dialog (Esc, the window's ✕) is Deny. The dialog
is not modal to the whole app: the chat stays readable and Stop still works (Stop answers Deny and
closes it). Arguments that are not a JSON object cannot be sent: the Allow buttons wait for valid ones.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.tools.permissions import Decision
from app.ui.tools.calls_view import pretty_arguments
from app.ui.tools.tool_replies import Question

ANSWERS = (
    (Decision.ONCE, "Allow once", "Run this call now; ask again next time"),
    (Decision.ALWAYS_TOOL, "Always for this tool",
     "Run this tool's calls without asking (revocable in Tools settings)"),
    (Decision.ALWAYS_SERVER, "Always for this server",
     "Run every tool of this server without asking (revocable in Tools settings)"),
    (Decision.DENY, "Deny", "Do not run it; the model is told the call was not allowed"),
)


class ApprovalDialog(QDialog):
    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = question
        self.setWindowTitle("Allow a tool call?")
        self.setAccessibleName("Allow a tool call")
        layout = QVBoxLayout(self)
        heading = QLabel("<b>Allow a tool call?</b>")  # also where no window manager draws the title
        layout.addWidget(heading)
        what = QLabel(f"The model wants to call <b>{_escape(question.call.name)}</b> "
                      f"on the server <b>{_escape(question.server)}</b> with these arguments:")
        what.setWordWrap(True)
        layout.addWidget(what)
        self.arguments = QPlainTextEdit(pretty_arguments(question.call.arguments))
        self.arguments.setAccessibleName("Tool call arguments")
        self.arguments.setToolTip("You may change the arguments before allowing the call")
        self.arguments.textChanged.connect(self._check)
        layout.addWidget(self.arguments, 1)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setObjectName("approvalProblem")
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        self.buttons: dict[Decision, QPushButton] = {}
        for decision, label, tip in ANSWERS:
            button = QPushButton(label)
            button.setAccessibleName(label)
            button.setToolTip(tip)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, d=decision: self.choose(d))
            row.addWidget(button)
            self.buttons[decision] = button
        layout.addLayout(row)
        self.resize(520, 300)
        self._check()

    def arguments_text(self) -> str:
        """The arguments as sent: compact JSON (the model's own text when unchanged and not JSON)."""
        text = self.arguments.toPlainText()
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except json.JSONDecodeError:
            return text

    def _check(self) -> None:
        try:
            valid = isinstance(json.loads(self.arguments.toPlainText()), dict)
            why = "" if valid else "The arguments must be a JSON object: {…}."
        except json.JSONDecodeError as exc:
            valid, why = False, f"The arguments are not valid JSON: {exc.msg} (line {exc.lineno})."
        self.problem.setText(why)
        self.problem.setVisible(bool(why))
        for decision, button in self.buttons.items():
            button.setEnabled(valid or decision is Decision.DENY)

    def choose(self, decision: Decision) -> None:
        self.question.reply(decision, self.arguments_text())
        self.done(QDialog.DialogCode.Rejected if decision is Decision.DENY else QDialog.DialogCode.Accepted)

    def reject(self) -> None:  # Esc and ✕: nothing allowed
        self.question.reply(Decision.DENY, self.question.call.arguments)
        super().reject()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
