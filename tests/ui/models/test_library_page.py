"""The Models page names models as people know them and keeps the header's own name in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt, QThreadPool

from app.library.gguf_info import read_gguf_info
from app.library.library import LocalModel
from app.ui.models.library_page import LibraryPage
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.load_settings import LoadSettings
from tests.support.tiny_gguf import write_tiny_model


def test_names_come_from_the_file_and_the_header_name_is_in_the_details(qtbot, tmp_path):
    path = write_tiny_model(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf", name="Smollm2 135M 8k Lc100K Mix1 Ep2")
    model = LocalModel(path, "folder", read_gguf_info(path))
    page = LibraryPage(BackgroundTasks(QThreadPool()))
    qtbot.addWidget(page)
    page.set_models([model])
    index = page.models.index(0, 0)
    assert page.models.data(index) == "SmolLM2 135M Instruct · Q4_1"
    tip = page.models.data(index, Qt.ItemDataRole.ToolTipRole).replace("\xa0", " ")
    assert "Smollm2 135M 8k Lc100K Mix1 Ep2" in tip and "Name in the file" in tip
    panel = LoadSettings()
    qtbot.addWidget(panel)
    panel.set_models([model])
    assert panel.picker.itemText(0).startswith("SmolLM2 135M Instruct · Q4_1")
    assert "Mix1" not in panel.picker.itemText(0)


def test_an_unknown_architecture_is_named_before_any_load(qtbot, tmp_path):
    from app.library import architectures

    if not architectures.list_applies():
        return  # another llama-cpp-python than the list's: Hearth does not guess (test_llama_arch covers it)
    path = write_tiny_model(tmp_path / "future-model.gguf", architecture="notarealarch")
    model = LocalModel(path, "folder", read_gguf_info(path))
    sentence = architectures.unknown_architecture_message("notarealarch")
    assert sentence.startswith("This model's architecture is `notarealarch`; the llama.cpp in this Hearth (build b")
    page = LibraryPage(BackgroundTasks(QThreadPool()))
    qtbot.addWidget(page)
    page.set_models([model])
    cell = page.models.index(0, 1)
    assert page.models.data(cell) == "notarealarch · unknown to this llama.cpp"
    assert sentence in page.models.data(cell, Qt.ItemDataRole.ToolTipRole).replace("\xa0", " ")
    assert sentence in page.message.text() and "File → Engine runtimes" in page.message.text()
    panel = LoadSettings()
    qtbot.addWidget(panel)
    panel.set_models([model])
    assert panel.picker.itemText(0).endswith(" · unknown architecture")
    tip = panel.picker.itemData(0, Qt.ItemDataRole.ToolTipRole).replace("\xa0", " ")
    assert "`notarealarch`" in tip and "does not know it" in tip
    # the closed picker and "Regenerate with…" say the whole sentence too, not only "unknown architecture"
    from app.ui.widgets.picker_items import row_tip

    assert sentence in panel.picker.toolTip().replace("\xa0", " ")
    assert "Ctrl+K" in panel.picker.toolTip()
    assert sentence in row_tip(panel.picker, str(path)).replace("\xa0", " ")
