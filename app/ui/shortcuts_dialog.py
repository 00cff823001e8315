"""Help → Keyboard shortcuts: every QAction of the window that has a shortcut, plus the message box's keys.

The list is read from the actions themselves each time the dialog opens (menus first, in
menu order, then actions that live on the window or its pages, such as Ctrl+1…4), so a new
command with a shortcut shows up without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.chat.composer import COMPOSER_KEYS
from app.ui.plain_text import as_html


def action_label(action: QAction) -> str:
    """The action's text as a menu shows it, without the mnemonic marks."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


def window_actions(window: QMainWindow) -> list[QAction]:
    """The window's actions: those in its menus in menu order, then every other one it holds."""
    ordered: list[QAction] = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if isinstance(menu, QMenu):
            ordered += [a for a in menu.actions() if not a.isSeparator()]
    ordered += window.actions()
    ordered += window.findChildren(QAction)
    unique: list[QAction] = []
    for action in ordered:
        if action not in unique:
            unique.append(action)
    return unique


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str, str]]:
    """(keys, command, its tip) for each named action with a shortcut, keys as this platform writes them."""
    rows: list[tuple[str, str, str]] = []
    for action in actions:
        native = QKeySequence.SequenceFormat.NativeText
        keys = ", ".join(k.toString(native) for k in action.shortcuts() if not k.isEmpty())
        label = action_label(action)
        tip = action.toolTip() if action.toolTip() not in (label, label.rstrip("…")) else ""
        if keys and label and all(row[:2] != (keys, label) for row in rows):
            rows.append((keys, label, tip))
    return rows


class ShortcutsDialog(QDialog):
    """A two-column list, grouped: the window's commands and the message box's keys."""

    def __init__(self, commands: Sequence[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hearth · Keyboard shortcuts")
        self.setModal(False)
        self.resize(760, 600)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Keyboard shortcuts")
        self.tree.setHeaderLabels(["Keys", "Command", "What it does"])
        self.tree.setRootIsDecorated(False)
        self._group("Commands", commands)
        self._group("In the message box", COMPOSER_KEYS)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self.tree.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def _group(self, title: str, rows: Iterable[tuple[str, ...]]) -> None:
        group = QTreeWidgetItem(self.tree, [title])
        group.setFirstColumnSpanned(True)
        for row in rows:
            item = QTreeWidgetItem(group, list(row))
            item.setToolTip(2, as_html(row[2]) if len(row) > 2 else "")

    def rows(self) -> list[tuple[str, str]]:
        """Every (keys, command) listed, in order."""
        found: list[tuple[str, str]] = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            children = [group.child(j) for j in range(group.childCount())] if group is not None else []
            found += [(child.text(0), child.text(1)) for child in children if child is not None]
        return found


def open_shortcuts(window: QMainWindow) -> ShortcutsDialog:
    """Show the list for `window`'s actions as they are now (closing it deletes it)."""
    dialog = ShortcutsDialog(shortcut_rows(window_actions(window)), window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
