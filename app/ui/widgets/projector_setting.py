"""The load setting of a vision model's image projector: on the GPU or the CPU (libmtmd's use_gpu),
with the memory it takes there (the memory plan's projector parts, app/library/memory_plan.py).

A row of the load settings' form, shown only for a model that sees images; the projector's header
comes from the library (LocalModel.projector_info), so nothing is read here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.formatting import human_bytes
from app.library.library import LocalModel
from app.library.memory_plan import projector_parts

TIP = ("Where the image projector reads pictures: on the GPU it is much faster and takes GPU memory; "
       "on the CPU it takes system memory")


class ProjectorSetting(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_gpu = QCheckBox("Image projector on the GPU")
        self.on_gpu.setChecked(True)
        self.on_gpu.setToolTip(TIP)
        self.on_gpu.setAccessibleName("Image projector on the GPU")
        self.memory = QLabel()
        self.memory.setTextFormat(Qt.TextFormat.PlainText)
        self.memory.setAccessibleName("Image projector memory")
        self.memory.setWordWrap(True)
        row = QVBoxLayout(self)  # (the label below: the settings column is narrow beside the plan)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.on_gpu)
        row.addWidget(self.memory)
        self.model: LocalModel | None = None
        self.has_gpu = False
        self.on_gpu.toggled.connect(lambda _on: self._show())

    @classmethod
    def attach(cls, settings, form: QFormLayout) -> ProjectorSetting:
        """A row in `form` of a LoadSettings widget, following its chosen model and GPU backend."""
        setting = cls(settings)
        form.addRow("", setting)
        setting.setVisible(False)

        def follow(*_args: object) -> None:
            setting.show_for(settings.current_model(), settings.gpu_backend not in (None, "none"))

        settings.model_chosen.connect(follow)
        settings.settings_changed.connect(follow)
        setting.on_gpu.toggled.connect(lambda _on: settings.settings_changed.emit())
        return setting

    def show_for(self, model: LocalModel | None, has_gpu: bool) -> None:
        self.model, self.has_gpu = model, has_gpu
        self.setVisible(model is not None and model.projector_info is not None)
        self.on_gpu.setEnabled(has_gpu)
        self._show()

    def plan_args(self, model: LocalModel | None) -> dict[str, Any]:
        """The memory plan's projector arguments for `model` (none for a text model)."""
        info = model.projector_info if model is not None else None
        return {"projector": info, "projector_gpu": info is not None and self.has_gpu and self.on_gpu.isChecked()}

    def use_gpu(self) -> bool:
        """LoadOptions.mmproj_gpu: the user's choice (the engine keeps it on the CPU where there is no GPU)."""
        return self.on_gpu.isChecked()

    def words(self) -> str:
        info = self.model.projector_info if self.model is not None else None
        if info is None:
            return ""
        where = self.has_gpu and self.on_gpu.isChecked()
        weights, working = projector_parts(info, where)
        place = "GPU memory" if where else "memory"
        return (f"{human_bytes(weights.total)} of {place}, and about {human_bytes(working.total)} more while it "
                "reads a picture")

    def _show(self) -> None:
        self.memory.setText(self.words())

    def load_from(self, settings) -> None:
        self.on_gpu.setChecked(bool(getattr(settings, "mmproj_gpu", True)))

    def save_to(self, settings) -> None:
        settings.mmproj_gpu = self.on_gpu.isChecked()
