"""The per-chat Thinking switch: on/off, or low/medium/high effort.

Shown only when the loaded model's template reacts to it (ModelInfo.thinking_modes).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QWidget

MODE_LABELS = {
    "default": "Model default",
    "on": "On",
    "off": "Off",
    "low": "Low effort",
    "medium": "Medium effort",
    "high": "High effort",
}


class ThinkingSwitch(QGroupBox):
    changed = Signal(str)  # the new mode, chosen by the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Thinking", parent)
        self.combo = QComboBox()
        self.combo.setAccessibleName("Thinking")
        self.combo.setToolTip("Whether a reasoning model thinks before it answers (sent to its chat template)")
        QFormLayout(self).addRow("Thinking", self.combo)
        self._value = "default"
        self._modes: tuple[str, ...] = ()
        self.combo.currentIndexChanged.connect(self._on_index)
        self._fill()
        self.setVisible(False)

    def set_modes(self, modes: tuple[str, ...]) -> None:
        """The modes the loaded model's template understands; () hides the switch."""
        self._modes = tuple(modes)
        self._fill()
        self.setVisible(bool(self._modes))

    def set_value(self, mode: str) -> None:
        """The chat's saved mode (kept even when this model does not offer it)."""
        self._value = mode if mode in MODE_LABELS else "default"
        self._fill()

    def saved(self) -> str:
        """The chat's mode as chosen, to store."""
        return self._value

    def value(self) -> str:
        """What to send: the chat's mode if the model understands it, else "default"."""
        return self._value if self._value in self._modes else "default"

    def _fill(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for mode in ("default",) + self._modes:
            self.combo.addItem(MODE_LABELS.get(mode, mode), mode)
        self.combo.setCurrentIndex(max(self.combo.findData(self.value()), 0))
        self.combo.blockSignals(False)

    def _on_index(self, index: int) -> None:
        mode = self.combo.itemData(index)
        if mode and mode != self._value:
            self._value = mode
            self.changed.emit(mode)
