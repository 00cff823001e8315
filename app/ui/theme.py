"""Light and dark themes that follow the system's colour scheme."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

STYLE = """
#chatTitle { font-size: 15pt; font-weight: 600; }
#cardTitle { font-weight: 600; }
#cardStats, #meterSpeed, #meterNumbers, #loadStatus, #gpuEstimate { color: palette(placeholder-text); }
#cardError { color: @error; }
#chatNotice { color: @warning; padding: 2px 12px; }
QFrame#card-user { background: palette(alternate-base); border-radius: 8px; }
QFrame#card-assistant { background: palette(base); border-radius: 8px; }
QFrame#card-user QTextBrowser { background: transparent; }
QFrame#card-assistant QTextBrowser { background: transparent; }
#thinkingToggle { color: palette(placeholder-text); }
#navRail { background: palette(base); border-right: 1px solid palette(midlight); }
#navRail QToolButton { border: none; border-radius: 8px; padding: 6px 2px 4px 2px; font-size: 9pt; }
#navRail QToolButton:hover { background: palette(alternate-base); }
#navRail QToolButton:checked { background: palette(alternate-base); color: palette(highlight); font-weight: 600; }
#compareColumn { border: 1px solid palette(midlight); border-radius: 8px; background: palette(window); }
#columnMarks { color: palette(highlight); font-weight: 600; }
#columnStatus[failed="true"] { color: @error; }
QFrame#welcomeCard { background: palette(base); border: 1px solid palette(midlight); border-radius: 12px; }
#welcomeTitle { font-size: 18pt; font-weight: 600; }
#welcomeNote { color: palette(placeholder-text); }
#thinkingBody { color: palette(placeholder-text); font-style: italic; border-left: 3px solid palette(mid);
                padding: 2px 0 2px 8px; margin-left: 6px; }
"""


def is_dark() -> bool:
    """The system's colour scheme, unless HEARTH_THEME=light or dark says otherwise."""
    forced = os.environ.get("HEARTH_THEME", "").lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


# Colours the palette has no role for, per theme (readable on that theme's background).
ACCENTS = {False: {"@error": "#b91c1c", "@warning": "#b45309"}, True: {"@error": "#f87171", "@warning": "#fbbf24"}}


def style_sheet(dark: bool) -> str:
    """The app's style sheet with the theme's error and warning colours."""
    sheet = STYLE
    for name, colour in ACCENTS[dark].items():
        sheet = sheet.replace(name, colour)
    return sheet


def light_palette() -> QPalette:
    """Calm greys with one blue accent (the same roles as the dark palette)."""
    return _palette({
        QPalette.ColorRole.Window: "#f4f5f7",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#eceff3",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.Button: "#f8f9fb",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.Highlight: "#2563eb",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2328",
        QPalette.ColorRole.PlaceholderText: "#6b7280",
        QPalette.ColorRole.Link: "#1d4ed8",
        QPalette.ColorRole.Midlight: "#dde1e6",
        QPalette.ColorRole.Mid: "#c4c9d0",
    })


def _palette(colors: dict) -> QPalette:
    p = QPalette()
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    return _greyed_when_disabled(p)


def _greyed_when_disabled(p: QPalette) -> QPalette:
    """setColor(role, …) sets every colour group: without this a disabled button looked enabled."""
    grey = p.color(QPalette.ColorRole.PlaceholderText)
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        p.setColor(QPalette.ColorGroup.Disabled, role, grey)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, p.color(QPalette.ColorRole.Window))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, p.color(QPalette.ColorRole.Mid))
    return p


def dark_palette() -> QPalette:
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#1f2125",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#26282d",
        QPalette.ColorRole.AlternateBase: "#2f3238",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#2c2f34",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#3b82f6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2f3238",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Link: "#60a5fa",
        QPalette.ColorRole.Midlight: "#34373d",
        QPalette.ColorRole.Mid: "#4a4e55",
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    return _greyed_when_disabled(p)


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if is_dark() else light_palette())
    app.setStyleSheet(style_sheet(is_dark()))


def follow_system_theme(app: QApplication) -> None:
    apply_theme(app)
    QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
