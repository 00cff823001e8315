"""The model picker's rows: each local model with a tooltip (its architecture's engine, the name in the file,
its chat template, its places), then each remote server's models."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from app.engine.router import parse_remote_path
from app.library import demo_model
from app.library.architectures import architecture_problem
from app.library.library import LocalModel
from app.library.model_kind import file_template_words
from app.library.model_label import model_label
from app.ui.plain_text import as_html


def fill_picker(picker: QComboBox, models: list[LocalModel], remote_models: list[tuple[str, str]],
                engine_sentence: Callable[[str, str], str]) -> None:
    """`engine_sentence(architecture, path)`: what runs a model the built-in llama.cpp does not know."""
    picker.clear()
    for m, info in ((m, m.info) for m in models if m.info is not None):
        picker.addItem(model_label(m), str(m.path))
        problem = engine_sentence(info.architecture, str(m.path)) if architecture_problem(info.architecture) else ""
        tip = "\n".join(p for p in (problem, demo_model.LABEL if demo_model.is_demo(m.path) else "",
                                    f"Name in the file: {info.name}" if info.name else "",
                                    f"Chat template: {file_template_words(info)}",
                                    *map(str, m.locations)) if p)
        picker.setItemData(picker.count() - 1, as_html(tip), Qt.ItemDataRole.ToolTipRole)
    for label, path in remote_models:
        picker.addItem(label, path)
        server = (parse_remote_path(path) or (path, ""))[0]
        picker.setItemData(picker.count() - 1, as_html(f"On a remote server: {server}"), Qt.ItemDataRole.ToolTipRole)
    if not models and not remote_models:
        picker.addItem("No models yet — get one from Discover", "")
    if not picker.property("tip_follows_row"):  # the closed picker shows its row's tooltip too
        picker.setProperty("tip_follows_row", picker.toolTip())
        picker.currentIndexChanged.connect(lambda _: _show_row_tip(picker))
    _show_row_tip(picker)


def row_tip(picker: QComboBox, path: str) -> str:
    """The tooltip of the picker's row for `path` (an unknown architecture's whole sentence), or ""."""
    index = picker.findData(path)
    tip = picker.itemData(index, Qt.ItemDataRole.ToolTipRole) if index >= 0 else None
    return tip if isinstance(tip, str) else ""


def _show_row_tip(picker: QComboBox) -> None:
    general = str(picker.property("tip_follows_row") or "")
    tip = row_tip(picker, str(picker.currentData() or ""))
    picker.setToolTip((as_html(general) if general else "") + tip if tip else general)
