"""Discover with a vision model's repository: its projector is downloaded with it (asking which one
when there are several), the page says so, and the Models page pairs them."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from tests.support.tiny_vision import write_tiny_projector
from tests.ui.models.test_discover_page import row_of

VISION_REPO = "hearth-test/Seeing-GGUF"


def downloaded(qtbot, window, count: int) -> None:
    qtbot.waitUntil(lambda: sum(r.status == "done" for r in window.downloads.model.rows) == count, timeout=20000)


def test_a_vision_models_projector_comes_with_it(qtbot, window, fake_hub, tiny_model, tmp_path, monkeypatch):
    projector = write_tiny_projector(tmp_path / "p.gguf").read_bytes()
    fake_hub.add_repo(VISION_REPO, {"seeing-Q8_0.gguf": tiny_model.read_bytes(), "mmproj-seeing-f16.gguf": projector})
    page = window.discover_page
    window.show_page(page)
    page.open_repo(VISION_REPO)
    qtbot.waitUntil(lambda: page.files.rowCount() == 1, timeout=10000)  # the projector is no choice of its own
    assert page.files.rows[0][0][3].endswith("sees images")
    asked: list = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: asked.append(a) or ("", False))
    page.file_table.selectRow(0)
    page.download_button.click()
    assert not asked  # one projector: nothing to ask
    assert "and its image projector mmproj-seeing-f16.gguf" in page.message.text()
    downloaded(qtbot, window, 2)
    library = window.library_page
    qtbot.waitUntil(lambda: library.models.rowCount() == 2, timeout=10000)
    row = row_of(library.models, "sees images")
    assert library.models.item(row).projector.name == "mmproj-seeing-f16.gguf"


def test_several_projectors_ask_which_and_cancel_downloads_nothing(qtbot, window, fake_hub, tiny_model, tmp_path,
                                                                   monkeypatch):
    projector = write_tiny_projector(tmp_path / "p.gguf").read_bytes()
    fake_hub.add_repo(VISION_REPO, {"seeing-Q8_0.gguf": tiny_model.read_bytes(), "mmproj-seeing-f16.gguf": projector,
                                    "mmproj-seeing-Q8_0.gguf": projector + b"\0"})
    page = window.discover_page
    window.show_page(page)
    page.open_repo(VISION_REPO)
    qtbot.waitUntil(lambda: page.files.rowCount() == 1, timeout=10000)
    page.file_table.selectRow(0)
    offered: list[list[str]] = []

    def pick(choice: int):
        def answer(_parent, _title, _label, items, *_rest, **_k):
            offered.append(items)
            return (items[choice], True) if choice >= 0 else ("", False)
        return answer

    monkeypatch.setattr(QInputDialog, "getItem", pick(-1))
    page.download_button.click()
    assert "cancelled" in page.message.text() and window.downloads.model.rowCount() == 0
    monkeypatch.setattr(QInputDialog, "getItem", pick(1))
    page.download_button.click()
    assert [i.split(" (")[0] for i in offered[-1]] == ["mmproj-seeing-Q8_0.gguf", "mmproj-seeing-f16.gguf"]
    assert "and its image projector mmproj-seeing-f16.gguf" in page.message.text()
    downloaded(qtbot, window, 2)
    assert {r.record.name for r in window.downloads.model.rows} == {"seeing-Q8_0.gguf", "mmproj-seeing-f16.gguf"}


def test_a_second_quant_does_not_download_the_projector_again(qtbot, window, fake_hub, tiny_model, tmp_path):
    projector = write_tiny_projector(tmp_path / "p.gguf").read_bytes()
    fake_hub.add_repo(VISION_REPO, {"seeing-Q8_0.gguf": tiny_model.read_bytes(), "mmproj-seeing-f16.gguf": projector,
                                    "seeing-F16.gguf": tiny_model.read_bytes() + b""})
    page = window.discover_page
    window.show_page(page)
    page.open_repo(VISION_REPO)
    qtbot.waitUntil(lambda: page.files.rowCount() == 2, timeout=10000)
    page.file_table.selectRow(row_of(page.files, "seeing-Q8_0.gguf"))
    page.download_button.click()
    downloaded(qtbot, window, 2)
    qtbot.waitUntil(lambda: any(m.is_projector for m in page.local_models), timeout=10000)
    page.file_table.selectRow(row_of(page.files, "seeing-F16.gguf"))
    page.download_button.click()
    assert "its image projector mmproj-seeing-f16.gguf is here already" in page.message.text()
    downloaded(qtbot, window, 3)
    assert window.downloads.model.rowCount() == 3
