"""Discover after the first run: the starter models are still there; model cards show without their
YAML front matter."""

from __future__ import annotations

import shutil

from app import paths

CARD = (b"---\nlicense: apache-2.0\ntags:\n- gguf\nbase_model: someone/Carded\n---\n\n"
        b"# Carded Chat\n\nA model card with front matter.\n")


def test_discover_is_not_empty_once_a_model_is_installed(qtbot, make_window, tiny_model):
    shutil.copy(tiny_model, paths.models_dir() / "mine.gguf")
    window = make_window()
    with qtbot.waitSignal(window.library.first_scan_done, timeout=10000) as scanned:
        pass
    assert scanned.args == [True]  # not a first run any more
    window.page_buttons[window.discover_page].click()
    page = window.discover_page
    assert window.pages.currentWidget() is page
    assert page.catalog_box.isVisibleTo(page) and len(page.catalog.rows) >= 5
    assert not page.catalog_label.text().startswith("New here?")


def test_a_model_card_shows_without_its_front_matter(qtbot, window, fake_hub, tiny_model):
    fake_hub.add_repo("card-org/Carded-GGUF", {"README.md": CARD, "carded.Q4_0.gguf": tiny_model.read_bytes()})
    page = window.discover_page
    window.show_page(page)
    page.open_repo("card-org/Carded-GGUF")
    qtbot.waitUntil(lambda: "Carded Chat" in page.card.toPlainText(), timeout=10000)
    shown = page.card.toPlainText()
    assert "license" not in shown and "apache-2.0" not in shown and "base_model" not in shown
    assert page.card.toPlainText().lstrip().startswith("Carded Chat")
