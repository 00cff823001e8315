"""Light and dark themes that follow the system's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

STYLE = """
#chatTitle { font-size: 15pt; font-weight: 600; }
#cardTitle { font-weight: 600; }
#cardStats, #meterSpeed, #meterNumbers, #loadStatus, #gpuEstimate { color: palette(placeholder-text); }
#cardError { color: #dc2626; }
#chatNotice { color: #b45309; padding: 2px 12px; }
QFrame#card-user { background: palette(alternate-base); border-radius: 8px; }
QFrame#card-assistant { background: palette(base); border-radius: 8px; }
QFrame#card-user QTextBrowser { background: transparent; }
QFrame#card-assistant QTextBrowser { background: transparent; }
#thinkingToggle { color: palette(placeholder-text); }
#thinkingBody { color: palette(placeholder-text); font-style: italic; border-left: 3px solid palette(mid);
                padding: 2px 0 2px 8px; margin-left: 6px; }
"""


def is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


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
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    return p


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if is_dark() else app.style().standardPalette())
    app.setStyleSheet(STYLE)


def follow_system_theme(app: QApplication) -> None:
    apply_theme(app)
    QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
