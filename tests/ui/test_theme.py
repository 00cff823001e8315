"""The theme: palettes for light and dark, one style sheet with each theme's accent colours."""

from __future__ import annotations

from PySide6.QtGui import QPalette

from app.ui.theme import dark_palette, is_dark, light_palette, style_sheet


def test_each_theme_gets_its_own_readable_accents_and_no_placeholder_is_left():
    light, dark = style_sheet(False), style_sheet(True)
    assert "@error" not in light + dark and "@warning" not in light + dark
    assert "#b91c1c" in light and "#f87171" in dark and light != dark


def test_palettes_are_light_and_dark(monkeypatch):
    text = QPalette.ColorRole.Text
    assert light_palette().color(text).lightness() < 100 < dark_palette().color(text).lightness()
    monkeypatch.setenv("HEARTH_THEME", "dark")
    assert is_dark()
    monkeypatch.setenv("HEARTH_THEME", "light")
    assert not is_dark()
