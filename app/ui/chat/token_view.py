"""A reply as the model wrote it, token by token, tinted by how sure the model was of each.

Each token is a link in a growing text view: its background goes from clear (the model was sure)
to orange and red (it hesitated). Hovering a token shows its alternatives; clicking one lists them
below, each with a "What if" button that writes the reply again from that token with the
alternative picked (chat/what_if.py). A reply written that way shows the picked token outlined.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QPoint, QUrl, Signal
from PySide6.QtGui import QCursor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolTip, QVBoxLayout, QWidget

from app.chat.message import TokenProbsPart
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenProbs, probs_from_json
from app.formatting import counted
from app.ui.chat.markdown_view import MarkdownView
from app.ui.chat.sampling_chart import SamplingChart, visible

SHOWN_ALTERNATIVES = 5
FORCED = "rgba(58, 123, 213, 0.45)"


def tint(prob: float) -> str:
    """Clear when sure, then orange to red as the probability falls (alpha grows with doubt)."""
    doubt = min(max(1.0 - prob, 0.0), 1.0)
    red, green = 230, int(180 - 140 * doubt)
    return f"rgba({red}, {green}, 40, {0.08 + 0.5 * doubt:.2f})" if doubt > 0.02 else "transparent"


def tokens_html(steps: tuple[TokenProbs, ...], forced_at: int = -1, color: str = "#000000") -> str:
    """The reply's tokens as links t:<index> in `color` (not a link's blue), tinted by their probability."""
    spans = []
    for index, step in enumerate(steps):
        text = html.escape(step.chosen.text).replace("\n", "↵<br>")
        forced = index == forced_at  # the user's pick: blue and underlined, not tinted
        background = FORCED if forced else tint(step.chosen.prob)
        underline = "underline" if forced else "none"
        spans.append(f'<a href="t:{index}" style="text-decoration: {underline}; color: {color}; '
                     f'background-color: {background};">{text or "∅"}</a>')
    return '<p style="white-space: pre-wrap;">' + "".join(spans) + "</p>"


def alternatives_text(step: TokenProbs, index: int) -> str:
    lines = [f"Token {index + 1}: “{visible(step.chosen.text)}” {step.chosen.prob:.1%}  (id {step.chosen.id})"]
    lines += [f"  {c.prob:6.1%}  “{visible(c.text)}”" for c in step.top[:SHOWN_ALTERNATIVES]]
    return "\n".join(lines)


class TokenView(QWidget):
    """The tinted tokens and, once one is clicked, its alternatives with a What if button each."""

    what_if_requested = Signal(int, int)  # step, token id
    chart_opened = Signal(int, object)  # step, the SamplingChart (the page asks the engine for its top 20)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = MarkdownView()
        self.text.setAccessibleName("Reply tokens")
        self.text.setMouseTracking(True)
        self.text.anchorClicked.connect(self._clicked)
        self.text.highlighted.connect(self._hovered)
        layout.addWidget(self.text)
        self.legend = QLabel()
        self.legend.setObjectName("cardStats")
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        self.details = QWidget()
        self._details_layout = QVBoxLayout(self.details)
        self._details_layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.details)
        self.steps: tuple[TokenProbs, ...] = ()
        self.forced_at = -1
        self.selected = -1
        self.sampling = SamplingParams()  # the settings that wrote the reply: its repeat window
        self.chart: SamplingChart | None = None

    def set_part(self, part: TokenProbsPart | None) -> None:
        steps = probs_from_json(part.steps) if part is not None else ()
        forced = part.forced_at if part is not None else -1
        if (steps, forced) == (self.steps, self.forced_at):
            return
        self.steps, self.forced_at = steps, forced
        self.text.setHtml(tokens_html(steps, forced, self.palette().color(QPalette.ColorRole.Text).name()))
        self.text._fit_height()
        unsure = sum(1 for s in steps if s.chosen.prob < 0.5)
        what_if = f" · “what if” from token {forced + 1}" if forced >= 0 else ""
        self.legend.setText(f"{counted(len(steps), 'token')} · {unsure} picked with under 50% · "
                            f"the redder, the less sure{what_if} · click a token for its alternatives")
        self.select(-1)

    def open_chart(self, index: int) -> SamplingChart:
        """The sampling chart at token `index` (the page ties its settings to the chat's: token_views.py)."""
        step = self.steps[index]
        recent = {s.chosen.id for s in self.steps[max(0, index - self.sampling.penalty_last_n):index]}
        if self.chart is not None:
            self.chart.close()
        title = f"token {index + 1}: “{visible(step.chosen.text)}” and the alternatives the model weighed"
        self.chart = SamplingChart(step.top or (step.chosen,), self.sampling, recent, title, self)
        self.chart.show()
        self.chart_opened.emit(index, self.chart)
        return self.chart

    def _clicked(self, url: QUrl) -> None:
        if url.scheme() == "t":
            self.select(int(url.path() or url.toString().split(":", 1)[1]))

    def _hovered(self, url: QUrl) -> None:
        if url.scheme() == "t":
            index = int(url.path() or url.toString().split(":", 1)[1])
            if 0 <= index < len(self.steps):
                QToolTip.showText(QCursor.pos() + QPoint(12, 12), alternatives_text(self.steps[index], index), self)

    def select(self, index: int) -> None:
        """List the alternatives at token `index` (-1: none)."""
        while (child := self._details_layout.takeAt(0)) is not None:
            if (widget := child.widget()) is not None:
                widget.deleteLater()
        self.selected = index
        self.details.setVisible(0 <= index < len(self.steps))
        if not self.details.isVisible():
            return
        step = self.steps[index]
        title = QLabel(f"Token {index + 1} of {len(self.steps)}: “{visible(step.chosen.text)}” "
                       f"(id {step.chosen.id}) was picked with {step.chosen.prob:.1%}. The model weighed:")
        title.setWordWrap(True)
        self._details_layout.addWidget(title)
        chart = QPushButton("Sampling chart…")
        chart.setToolTip("How temperature, top-k, top-p, min-p and repeat penalty reshape these candidates")
        chart.clicked.connect(lambda _=False: self.open_chart(index))
        self._details_layout.addWidget(chart)
        for choice in step.top[:SHOWN_ALTERNATIVES]:
            row = QHBoxLayout()
            bar = "█" * max(1, round(choice.prob * 20))
            label = QLabel(f"{choice.prob:6.1%}  {bar}  “{visible(choice.text)}”")
            label.setAccessibleName(f"Alternative {visible(choice.text)}")
            row.addWidget(label, 1)
            if choice.id != step.chosen.id:
                button = QPushButton("What if…")
                button.setToolTip(f"Write this reply again from token {index + 1} with “{visible(choice.text)}”; "
                                  "it becomes a new alternative of this reply")
                button.clicked.connect(lambda _=False, t=choice.id: self.what_if_requested.emit(index, t))
                row.addWidget(button)
            holder = QWidget()
            holder.setLayout(row)
            row.setContentsMargins(0, 0, 0, 0)
            self._details_layout.addWidget(holder)
