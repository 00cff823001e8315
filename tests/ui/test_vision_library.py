"""Journeys through the library with a vision model: the Models page shows that it sees images and
its projector beside it; the projector alone never opens as a chat model."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app import paths
from tests.support.tiny_vision import write_tiny_vision_pair
from tests.ui.test_journeys import CTRL, click, in_library, settle


def row_texts(page, row: int) -> list[str]:
    return [page.models.index(row, c).data() for c in range(page.models.columnCount())]


def test_the_models_page_shows_the_pair_and_opens_only_the_model(make_window, qtbot, tiny_model):
    model, projector = write_tiny_vision_pair(paths.models_dir() / "someone" / "tiny-vision-GGUF")
    in_library(tiny_model)
    window = make_window()
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_3, CTRL)
    page = window.library_page
    assert window.pages.currentWidget() is page
    rows = {page.models.item(r).path: r for r in range(page.models.rowCount())}
    shown = row_texts(page, rows[model])
    assert shown[0].endswith("sees images")
    assert "mmproj-tiny-vision-f32.gguf" in page.models.index(rows[model], 0).data(Qt.ItemDataRole.ToolTipRole)
    paired = row_texts(page, rows[projector])
    owner = shown[0].removesuffix(" · sees images")
    assert "image projector" in paired[1] and paired[-1] == f"image projector for {owner}"
    assert "3 models" not in page.message.text() and page.message.text().startswith("2 models")
    assert rows[projector] == rows[model] + 1  # the pair reads as one

    page.table.selectRow(rows[projector])
    click(qtbot, page, "Open in chat")
    assert window.pages.currentWidget() is page  # a projector alone is not a chat model
    assert page.message.text().startswith("mmproj-tiny-vision-f32.gguf is an image projector")  # and says why
    assert model.name in page.message.text()
    page.table.selectRow(rows[model])
    with qtbot.waitSignal(window.chat_page.model_loaded, timeout=60000):
        click(qtbot, page, "Open in chat")
    assert window.engine.info.mmproj == str(projector)


def test_opening_a_vision_model_from_elsewhere_pairs_it_and_a_projector_alone_is_refused(
        make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    model, projector = write_tiny_vision_pair(tmp_path / "elsewhere")
    window = make_window()
    qtbot.waitUntil(lambda: not window.library.scanning, timeout=20000)
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: said.append(text))
    window.model_opener.open_with_model(str(projector))
    qtbot.waitUntil(lambda: bool(said), timeout=10000)
    assert "image projector (mmproj), not a chat model" in said[0].replace("\xa0", " ")
    assert str(projector) not in [path for _label, path in window.chat_page.load_settings.choices()]
    with qtbot.waitSignal(window.chat_page.model_loaded, timeout=60000):
        window.model_opener.open_with_model(str(model))
    settings = window.chat_page.load_settings
    assert settings.current_model().projector == projector and "sees images" in settings.picker.currentText()
    assert window.engine.info.mmproj == str(projector)
