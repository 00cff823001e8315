"""The navigation rail at the window's left edge: one button per page, an icon over a short name.

Icons are SVG files in `resources/` drawn with one stroke colour, re-tinted from the
palette (text colour, highlight colour when checked) whenever the theme changes, and
rendered at the screen's pixel ratio so they stay sharp on high-DPI displays.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QButtonGroup, QFrame, QToolButton, QVBoxLayout, QWidget

from app.bundled import bundled_file

ICON_SIZE = 24
STROKE = "#000000"  # the colour the SVG files are drawn in; replaced by the palette's


def tinted_icon(name: str, normal: QColor, checked: QColor, ratio: float = 2.0) -> QIcon:
    """The SVG `resources/<name>` in `normal` colour, and in `checked` colour for the On state."""
    icon = QIcon()
    path = bundled_file("resources", name)
    if path is None:
        return icon
    source = path.read_text(encoding="utf-8")
    for color, state in ((normal, QIcon.State.Off), (checked, QIcon.State.On)):
        renderer = QSvgRenderer(QByteArray(source.replace(STROKE, color.name()).encode("utf-8")))
        side = round(ICON_SIZE * ratio)
        image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter, QRectF(0, 0, side, side))
        painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        icon.addPixmap(pixmap, QIcon.Mode.Normal, state)
    return icon


class NavRail(QFrame):
    """Checkable page buttons in a column; the window says which page is shown with `set_current`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navRail")
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        self._icons: dict[str, str] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 8, 6, 8)
        self._layout.setSpacing(4)
        self._layout.addStretch(1)

    def add(self, key: str, name: str, icon: str, tip: str, on_click: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setObjectName(f"nav-{key}")
        button.setText(name)
        button.setToolTip(tip)
        button.setAccessibleName(f"{name} page")
        button.setCheckable(True)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        button.setFixedWidth(76)
        button.clicked.connect(on_click)
        self.group.addButton(button)
        self._layout.insertWidget(self._layout.count() - 1, button)  # above the stretch
        self.buttons[key] = button
        self._icons[key] = icon
        self._tint(key)
        return button

    def set_current(self, key: str) -> None:
        if key in self.buttons:
            self.buttons[key].setChecked(True)

    def current(self) -> str:
        return next((k for k, b in self.buttons.items() if b.isChecked()), "")

    def _tint(self, key: str) -> None:
        palette = self.palette()
        ratio = max(self.devicePixelRatioF(), 2.0)  # at least 2×: sharp when moved to a high-DPI screen
        self.buttons[key].setIcon(tinted_icon(self._icons[key], palette.color(QPalette.ColorRole.WindowText),
                                              palette.color(QPalette.ColorRole.Highlight), ratio))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a sharper (or coarser) screen
            for key in self.buttons:
                self._tint(key)
        return super().event(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            for key in self.buttons:
                self._tint(key)
        super().changeEvent(event)
