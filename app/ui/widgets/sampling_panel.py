"""Sampling controls: a slider and a number for each value, presets and reset.

With `help_links` each row also has a "?" button; `help_requested(anchor)` asks for the help
page at that setting's section (whoever shows the help connects to it).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from app.engine.sampling import PRESETS, SamplingParams
from app.ui.widgets.help_button import HelpButton

# name, label, minimum, maximum, step, decimals, tooltip
FIELDS = [
    ("temperature", "Temperature", 0.0, 2.0, 0.05, 2, "Randomness. 0 always picks the likeliest token (reproducible)."),
    ("top_p", "Top-p", 0.0, 1.0, 0.01, 2, "Keep the smallest set of tokens whose probabilities add up to this."),
    ("top_k", "Top-k", 0, 200, 1, 0, "Keep only the k likeliest tokens (0: no limit)."),
    ("min_p", "Min-p", 0.0, 1.0, 0.01, 2, "Drop tokens less likely than this fraction of the likeliest one."),
    ("repeat_penalty", "Repeat penalty", 1.0, 2.0, 0.01, 2, "Discourage repeating recent tokens (1: off)."),
    ("seed", "Seed", -1, 2**31 - 1, 1, 0, "Fix the random seed to repeat a reply exactly (-1: new each time)."),
    ("max_tokens", "Max tokens", 0, 32768, 16, 0, "Longest reply in tokens (0: until the context is full)."),
]
HELP_ANCHORS = {name: name.replace("_", "-") for name, *_rest in FIELDS}  # the help page's sections (help_text.py)


class SamplingPanel(QWidget):
    changed = Signal(object)  # SamplingParams
    help_requested = Signal(str)  # a help page anchor ("temperature", "top-p", …)

    def __init__(self, parent: QWidget | None = None, help_links: bool = False) -> None:
        super().__init__(parent)
        self.help_buttons: dict[str, HelpButton] = {}
        self._help_links = help_links
        self._params = SamplingParams()
        self._updating = False
        form = QFormLayout(self)
        self.preset = QComboBox()
        self.preset.addItems(["Custom", *PRESETS])
        self.preset.setToolTip("Start from a preset; any change makes it Custom")
        self.preset.setAccessibleName("Sampling preset")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the Balanced defaults")
        self.reset_button.setAccessibleName("Reset sampling")
        row = QHBoxLayout()
        row.addWidget(self.preset, 1)
        row.addWidget(self.reset_button)
        self._add_help(row, "preset", "sampling", "Sampling presets")
        form.addRow("Preset", row)
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.sliders: dict[str, QSlider] = {}
        for name, label, lo, hi, step, decimals, tip in FIELDS:
            spin: QSpinBox | QDoubleSpinBox
            if decimals:
                spin = QDoubleSpinBox()
                spin.setDecimals(decimals)
                spin.setSingleStep(step)
                spin.setRange(lo, hi)
                scale = round(1 / step)
            else:  # a whole-number field: its numbers in FIELDS are ints
                spin = QSpinBox()
                spin.setSingleStep(int(step))
                spin.setRange(int(lo), int(hi))
                scale = 1
            spin.setToolTip(tip)
            spin.setAccessibleName(label)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setToolTip(tip)
            slider.setAccessibleName(label)
            slider_max = hi if name not in ("seed", "max_tokens") else (8192 if name == "max_tokens" else 0)
            slider.setRange(int(lo * scale), int(slider_max * scale))
            slider.setVisible(name != "seed")
            slider.setProperty("scale", scale)
            box = QHBoxLayout()
            box.addWidget(slider, 1)
            box.addWidget(spin)
            self._add_help(box, name, HELP_ANCHORS[name], label)
            form.addRow(label, box)
            spin.valueChanged.connect(lambda value, n=name: self._on_spin(n, value))
            slider.valueChanged.connect(lambda value, n=name: self._on_slider(n, value))
            self.spins[name] = spin
            self.sliders[name] = slider
        self.preset.currentTextChanged.connect(self._on_preset)
        self.reset_button.clicked.connect(lambda: self.set_params(SamplingParams(), emit=True))
        self.set_params(self._params)

    def _add_help(self, row: QHBoxLayout, name: str, anchor: str, topic: str) -> None:
        if self._help_links:
            button = HelpButton(anchor, topic)
            button.requested.connect(self.help_requested)
            row.addWidget(button)
            self.help_buttons[name] = button

    def params(self) -> SamplingParams:
        return self._params

    def set_params(self, params: SamplingParams, emit: bool = False) -> None:
        self._updating = True
        self._params = params
        for name, spin in self.spins.items():
            value = getattr(params, name)
            spin.setValue(value)
            slider = self.sliders[name]
            slider.setValue(round(value * slider.property("scale")))
        preset = next((n for n, p in PRESETS.items() if replace(p, seed=params.seed, max_tokens=params.max_tokens)
                       == params), "Custom")
        self.preset.setCurrentText(preset)
        self._updating = False
        if emit:
            self.changed.emit(self._params)

    def _on_spin(self, name: str, value) -> None:
        if self._updating:
            return
        self._apply(name, value)

    def _on_slider(self, name: str, value: int) -> None:
        if self._updating:
            return
        scale = self.sliders[name].property("scale")
        self._apply(name, value / scale if scale != 1 else value)

    def _apply(self, name: str, value) -> None:
        kind = type(getattr(self._params, name))
        self.set_params(replace(self._params, **{name: kind(round(value, 4) if kind is float else value)}), emit=True)

    def _on_preset(self, name: str) -> None:
        if self._updating or name not in PRESETS:
            return
        self.set_params(replace(PRESETS[name], seed=self._params.seed, max_tokens=self._params.max_tokens), emit=True)
