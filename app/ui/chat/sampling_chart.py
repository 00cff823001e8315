"""The sampling chart: at one token of a reply (or the draft's next token), the model's candidates before
and after the settings.

Grey bars are what the model weighed; coloured bars the chance each has of being picked with the
settings below, which update the chart as they move. Those settings are the chat's: the page ties them
to its side panel both ways (token_views.py). The numbers come from chat/sampling_preview.py.
It opens with the few candidates kept with the reply, if any, and shows the model's top 20 once the
engine has worked them out again (`set_candidates`, token_views.py asks).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.chat.sampling_preview import Bar, reshape
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice
from app.ui.widgets.sampling_panel import FIELDS

CHARTED = (("temperature", "Temperature"), ("top_k", "Top-k"), ("top_p", "Top-p"), ("min_p", "Min-p"),
           ("repeat_penalty", "Repeat penalty"))

EXPLAINED = (
    "Temperature divides the model's scores before the draw: below 1 the likely tokens gain, above 1 the "
    "unlikely ones do, 0 always takes the best. Top-k keeps the k best tokens, top-p the fewest whose "
    "probabilities add up to p, min-p those at least min-p times as likely as the best. Repeat penalty "
    "makes tokens already in the reply less likely. The grey bar is what the model weighed; the blue bar "
    "the chance of being picked with these settings (struck-out candidates were cut).")


def visible(text: str) -> str:
    """A token's text with its spaces, tabs and newlines made visible (· → ↵)."""
    return text.replace(" ", "·").replace("\t", "→").replace("\n", "↵")


class Bars(QWidget):
    """Paired horizontal bars, one row per candidate."""

    ROW = 21

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[Bar] = []
        self.setMinimumWidth(520)
        self.setAccessibleName("Candidate bars")

    def set_bars(self, bars: list[Bar]) -> None:
        self.bars = bars
        self.setMinimumHeight(self.ROW * len(bars) + 8)
        self.update()

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        text_color = self.palette().color(QPalette.ColorRole.Text)
        label_w, number_w = 170, 170
        width = max(self.width() - label_w - number_w - 12, 40)
        for row, bar in enumerate(self.bars):
            y = 4 + row * self.ROW
            painter.setPen(text_color)
            label = f"“{visible(bar.text)}”" if bar.id >= 0 else bar.text
            font = painter.font()
            font.setStrikeOut(bool(bar.cut_by))
            painter.setFont(font)
            painter.drawText(QRectF(0, y, label_w - 6, self.ROW - 4), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, label)
            font.setStrikeOut(False)
            painter.setFont(font)
            painter.fillRect(QRectF(label_w, y + 2, width * bar.before, 7), QColor(150, 150, 150))
            painter.fillRect(QRectF(label_w, y + 10, width * bar.after, 7), QColor(58, 123, 213))
            note = f"{bar.before:.1%} → {bar.after:.1%}" + (f" ({bar.cut_by})" if bar.cut_by else "")
            painter.drawText(QRectF(label_w + width + 6, y, number_w, self.ROW - 4),
                             Qt.AlignmentFlag.AlignVCenter, note)
        painter.end()


class BarsArea(QScrollArea):
    """The bars, scrolled when the screen is too short for all 21 rows (its size hint asks for them all)."""

    def __init__(self, bars: Bars) -> None:
        super().__init__()
        self.bars = bars
        self.setWidget(bars)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumHeight(Bars.ROW * 5)

    def sizeHint(self) -> QSize:
        return QSize(self.bars.minimumWidth(), self.bars.minimumHeight() + 2 * self.frameWidth())


class SamplingChart(QDialog):
    """The chart with its five settings. They are the chat's own (the side panel's): TokenViews ties them
    both ways (`follow` takes the panel's, `changed` gives the chart's), as TIED says under them."""

    changed = Signal(object)  # SamplingParams: the user changed a setting in the chart
    TIED = ("These are the chat's sampling settings: moving a slider in the side panel reshapes the bars, "
            "and a change here changes the chat's settings (and its next reply) too.")

    def __init__(self, candidates: Sequence[TokenChoice], sampling: SamplingParams, recent: Collection[int],
                 title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sampling chart · {title}")
        self.candidates, self.recent = list(candidates), set(recent)
        self.sampling = sampling
        self._following = False
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.source = QLabel("The candidates kept with the reply; asking the model for its top 20…"
                             if self.candidates else "Asking the model for its top 20 candidates…")
        self.source.setObjectName("cardStats")
        self.source.setAccessibleName("Where the candidates come from")
        self.source.setWordWrap(True)
        layout.addWidget(self.source)
        self.bars = Bars()
        self.bars_area = BarsArea(self.bars)
        layout.addWidget(self.bars_area, 1)
        grid = QGridLayout()  # two rows of label and number: the chart fits a short screen
        self.spins: dict[str, QDoubleSpinBox | QSpinBox] = {}
        limits = {name: (low, high, step, decimals) for name, _l, low, high, step, decimals, _t in FIELDS}
        for index, (name, label) in enumerate(CHARTED):
            low, high, step, decimals = limits[name]  # the side panel's ranges: the two hold the same values
            spin: QDoubleSpinBox | QSpinBox = QDoubleSpinBox() if decimals else QSpinBox()
            if isinstance(spin, QDoubleSpinBox):
                spin.setDecimals(decimals)
            spin.setRange(low, high)  # type: ignore[arg-type]
            spin.setSingleStep(step)  # type: ignore[arg-type]
            spin.setValue(getattr(sampling, name))
            spin.setAccessibleName(label)
            spin.valueChanged.connect(self._spun)
            words = QLabel(label)
            words.setBuddy(spin)
            row, column = divmod(index, 3)
            grid.addWidget(words, row, 2 * column, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(spin, row, 2 * column + 1)
            self.spins[name] = spin
        grid.setColumnStretch(6, 1)
        layout.addLayout(grid)
        self.tied = QLabel(self.TIED)
        self.tied.setWordWrap(True)
        self.tied.setAccessibleName("How the chart's settings are tied to the chat's")
        layout.addWidget(self.tied)
        words = QLabel(EXPLAINED)
        words.setWordWrap(True)
        words.setObjectName("cardStats")
        layout.addWidget(words)
        self.redraw()

    def follow(self, sampling: SamplingParams) -> None:
        """The chat's settings changed (or the chart opens): the numbers and the bars follow at once."""
        self._following = True
        self.sampling = sampling
        for name, spin in self.spins.items():
            spin.setValue(getattr(sampling, name))
        self._following = False
        self.redraw()

    def _spun(self) -> None:
        self.redraw()
        if not self._following:
            self.changed.emit(self.params())

    def fit_screen(self) -> None:
        """As tall as the bars ask, but never taller than the screen's free height (the bars scroll)."""
        screen = self.screen().availableGeometry()
        frame = self.frameGeometry().height() - self.geometry().height()
        self.bars_area.updateGeometry()  # its hint follows the number of bars
        if (layout := self.layout()) is not None:
            layout.activate()
        hint = self.sizeHint()
        height = min(hint.height(), screen.height() - max(frame, 30))
        self.resize(min(max(self.width(), hint.width(), 720), screen.width()), height)
        top = min(max(self.frameGeometry().top(), screen.top()), screen.bottom() - height - max(frame, 30))
        self.move(self.frameGeometry().left(), max(top, screen.top()))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_screen()

    def params(self) -> SamplingParams:
        values: dict[str, Any] = {name: spin.value() for name, spin in self.spins.items()}
        return replace(self.sampling, **values)

    def set_candidates(self, candidates: Sequence[TokenChoice]) -> None:
        """The model's own best candidates (top 20), worked out again by the engine."""
        self.candidates = list(candidates)
        shown = sum(c.prob for c in self.candidates)
        self.source.setText(f"The model's {len(self.candidates)} best candidates ({shown:.1%} of its probability; "
                            "every other token of its vocabulary shares the rest).")
        self.redraw()
        self.fit_screen()

    def set_note(self, words: str) -> None:
        """Why the top 20 could not be had (the kept candidates, if any, stay)."""
        self.source.setText(words)

    def redraw(self) -> None:
        self.bars.set_bars(reshape(self.candidates, self.params(), self.recent) if self.candidates else [])
