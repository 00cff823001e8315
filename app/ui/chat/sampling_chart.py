"""The sampling chart: at one token of a reply (or the draft's next token), the model's candidates before
and after the settings.

Grey bars are what the model weighed; coloured bars the chance each has of being picked with the
settings below, which update the chart as they move. The numbers come from chat/sampling_preview.py.
It opens with the few candidates kept with the reply, if any, and shows the model's top 20 once the
engine has worked them out again (`set_candidates`, token_views.py asks).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from app.chat.sampling_preview import Bar, reshape
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice

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


class SamplingChart(QDialog):
    def __init__(self, candidates: Sequence[TokenChoice], sampling: SamplingParams, recent: Collection[int],
                 title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sampling chart · {title}")
        self.candidates, self.recent = list(candidates), set(recent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(title))
        self.source = QLabel("The candidates kept with the reply; asking the model for its top 20…"
                             if self.candidates else "Asking the model for its top 20 candidates…")
        self.source.setObjectName("cardStats")
        self.source.setAccessibleName("Where the candidates come from")
        self.source.setWordWrap(True)
        layout.addWidget(self.source)
        self.bars = Bars()
        layout.addWidget(self.bars, 1)
        row = QHBoxLayout()
        form = QFormLayout()
        self.spins: dict[str, QDoubleSpinBox | QSpinBox] = {}
        for name, label, low, high, step, value in (
                ("temperature", "Temperature", 0.0, 5.0, 0.05, sampling.temperature),
                ("top_k", "Top-k", 0, 200, 1, sampling.top_k),
                ("top_p", "Top-p", 0.0, 1.0, 0.01, sampling.top_p),
                ("min_p", "Min-p", 0.0, 1.0, 0.01, sampling.min_p),
                ("repeat_penalty", "Repeat penalty", 0.5, 2.5, 0.05, sampling.repeat_penalty)):
            spin: QDoubleSpinBox | QSpinBox = QSpinBox() if name == "top_k" else QDoubleSpinBox()
            spin.setRange(low, high)  # type: ignore[arg-type]
            spin.setSingleStep(step)  # type: ignore[arg-type]
            spin.setValue(value)  # type: ignore[arg-type]
            spin.setAccessibleName(label)
            spin.valueChanged.connect(self.redraw)
            form.addRow(label, spin)
            self.spins[name] = spin
        row.addLayout(form)
        words = QLabel(EXPLAINED)
        words.setWordWrap(True)
        words.setObjectName("cardStats")
        row.addWidget(words, 1)
        layout.addLayout(row)
        self.sampling = sampling
        self.redraw()

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
        self.adjustSize()

    def set_note(self, words: str) -> None:
        """Why the top 20 could not be had (the kept candidates, if any, stay)."""
        self.source.setText(words)

    def redraw(self) -> None:
        self.bars.set_bars(reshape(self.candidates, self.params(), self.recent) if self.candidates else [])
