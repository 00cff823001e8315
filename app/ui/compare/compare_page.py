"""The Compare page: one composer over 2–4 columns, each a model with its own settings.

Lays out the controller's columns and forwards what the user does; the controller
(compare_controller.py) runs them. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.engine import SamplingParams
from app.library.library import LocalModel
from app.library.model_names import friendly_name
from app.machine_probe import MachineProbe
from app.store.compare_export import comparison_to_markdown
from app.ui import file_dialogs
from app.ui.changes import change_signal, touches
from app.ui.chat.composer import Composer
from app.ui.chat.save_banner import SaveBanner
from app.ui.chat_export import write_export
from app.ui.compare import column_stats
from app.ui.compare.column_settings import ColumnSettings
from app.ui.compare.compare_column import CompareColumnView
from app.ui.compare.compare_controller import MAX_COLUMNS, CompareController
from app.ui.plain_text import as_html

RUN_MODES = (("auto", "Run: automatic"), ("one_at_a_time", "Run: one at a time"), ("together", "Run: together"))


class ComparePage(QWidget):
    def __init__(self, controller: CompareController, choices: Callable[[], list[tuple[str, str]]],
                 defaults: Callable[[str], tuple[dict, SamplingParams]],
                 machine: Callable[[], MachineProbe | None], models: Callable[[], list[LocalModel]],
                 parent: QWidget | None = None) -> None:
        """`choices()` lists (label, path) of the models on offer; `defaults(path)` gives a model's load
        values and sampling (its per-model defaults); `machine()` what this computer offers (None until
        probed) and `models()` the library's models, for a column's load settings."""
        super().__init__(parent)
        self.controller = controller
        self._choices = choices
        self._defaults = defaults
        self._machine = machine
        self._models = models
        self.views: list[CompareColumnView] = []

        self.saved = QComboBox()
        self.saved.setAccessibleName("Saved comparisons")
        self.saved.setToolTip("Open a comparison you ran before")
        self.saved.setMinimumContentsLength(20)
        self.new_button = QPushButton("New comparison")
        self.add_button = QPushButton("Add column")
        self.add_button.setToolTip("Another model, or the same model with other settings (up to 4 columns)")
        self.mode = QComboBox()
        self.mode.setAccessibleName("How the columns run")
        for value, label in RUN_MODES:
            self.mode.addItem(label, value)
        self.mode.setToolTip("Together runs every column at once on its own engine; one at a time loads each "
                             "model in turn (less memory, and speeds that are not shared)")
        self.rename_button = QPushButton("Rename…")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this comparison as Markdown: a table of numbers, then the replies")
        self.delete_button = QPushButton("Delete")
        bar = QHBoxLayout()
        bar.addWidget(self.saved, 1)
        for widget in (self.new_button, self.add_button, self.mode, self.rename_button, self.export_button,
                       self.delete_button):
            bar.addWidget(widget)
        self.plan_line = QLabel()
        self.plan_line.setObjectName("comparePlan")
        self.plan_line.setTextFormat(Qt.TextFormat.PlainText)
        self.plan_line.setWordWrap(True)
        self.empty = QLabel("Compare models side by side: press New comparison, choose a model for each column, "
                            "and send one prompt to all of them.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.columns = QSplitter(Qt.Orientation.Horizontal)
        self.columns.setChildrenCollapsible(False)
        self.save_banner = SaveBanner()  # the window's one write queue: Retry here saves the chat's writes too
        self.composer = Composer()
        self.composer.edit.setPlaceholderText("One prompt for every column — Enter to send, Shift+Enter for a new line")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.plan_line)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.columns, 1)
        layout.addWidget(self.save_banner)
        layout.addWidget(self.composer)

        self.new_button.clicked.connect(self.new_comparison)
        self.add_button.clicked.connect(self.add_column)
        self.mode.activated.connect(lambda _i: controller.set_run_mode(self.mode.currentData()))
        self.rename_button.clicked.connect(self.rename)
        self.export_button.clicked.connect(lambda: self.export())
        self.delete_button.clicked.connect(self.delete)
        self.saved.activated.connect(lambda _i: self._open_saved())
        self.composer.send.connect(self.send)
        self.save_banner.retry_requested.connect(self.retry_saving)
        controller.save_problem.connect(self.save_banner.show_problem)
        self.composer.stop.connect(controller.stop)
        controller.columns_changed.connect(self._rebuild)
        controller.column_changed.connect(self._refresh_column)
        controller.plan_changed.connect(self._on_plan)
        controller.busy_changed.connect(self._on_busy)
        change_signal(controller.store).changed.connect(self._on_store_changed)  # a title, a new one, a deletion
        controller.notice.connect(self.plan_line.setText)
        self.refresh_saved()
        self._rebuild()

    # ------------------------------------------------------------ comparisons

    def refresh_saved(self) -> None:
        self.saved.blockSignals(True)
        self.saved.clear()
        for record in self.controller.store.comparisons():
            self.saved.addItem(record.title, record.id)
        current = self.controller.comparison
        self.saved.setCurrentIndex(self.saved.findData(current.id) if current else -1)
        self.saved.setPlaceholderText("No saved comparisons yet" if not self.saved.count() else "Saved comparisons")
        self.saved.blockSignals(False)

    def _on_store_changed(self, changes) -> None:
        if touches(changes, "comparison"):
            self.refresh_saved()

    def _open_saved(self) -> None:
        if not self.controller.open(self.saved.currentData()):
            self.refresh_saved()

    def new_comparison(self) -> None:
        """Two columns: the first two models on offer (or one model twice, to compare settings)."""
        paths = [path for _label, path in self._choices()]
        if not paths:  # said in the page itself (no dialog to dismiss)
            self.empty.setText("There is no model to compare yet: download one in Discover or add a GGUF file "
                               "in Models, then press New comparison again.")
            return
        self.controller.new((paths * 2)[:2], self._defaults)

    def add_column(self) -> None:
        columns = self.controller.columns
        path = columns[-1].record.model_path if columns else ""
        if not path:
            paths = [p for _label, p in self._choices()]
            path = paths[0] if paths else ""
        load, sampling = self._defaults(path)
        if self.controller.comparison is None:
            self.controller.new([path], self._defaults)
        else:
            self.controller.add_column(path, load, sampling)

    def rename(self) -> None:
        current = self.controller.comparison
        if current is None:
            return
        title, ok = QInputDialog.getText(self, "Rename comparison", "Title:", text=current.title)
        if ok:
            self.controller.rename(title)

    def delete(self) -> None:
        current = self.controller.comparison
        if current is None:
            return
        answer = QMessageBox.question(self, "Delete comparison", as_html(f"Delete “{current.title}” and its replies?"))
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.delete()

    def export(self, path: str = "") -> bool:
        current = self.controller.comparison
        if current is None:
            return False
        if not path:
            path = file_dialogs.save_file(self, "comparison-export", "Export comparison", f"{current.title[:40]}.md",
                                          "Markdown (*.md)")
        if not path:
            return False
        columns = [(self._column_name(v, c), c.session.store.messages(c.record.chat_id))
                   for v, c in zip(self.views, self.controller.columns, strict=True)]
        return write_export(self, path, comparison_to_markdown(current, columns))

    @staticmethod
    def _column_name(view: CompareColumnView, column) -> str:
        """The loaded model's name, else the picker's entry, else one made from the file name."""
        if column.info is not None:
            return column.info.name
        if view.picker.currentIndex() >= 0 and not view.picker.currentText().endswith("(not found)"):
            return view.picker.currentText()
        return friendly_name(column.record.model_path) if column.record.model_path else "no model"

    # ------------------------------------------------------------ columns

    def models_changed(self) -> None:
        """The models on offer changed: the column pickers list them (not while a run is under way)."""
        if not self.controller.busy:
            self._rebuild()

    def _rebuild(self) -> None:
        for view in self.views:
            view.setParent(None)
            view.deleteLater()
        choices = self._choices()
        self.views = [CompareColumnView(i, column, choices) for i, column in enumerate(self.controller.columns)]
        for view in self.views:
            view.model_chosen.connect(self._choose_model)
            view.settings_requested.connect(self._edit_settings)
            view.remove_requested.connect(self.controller.remove_column)
            self.columns.addWidget(view)
        self.columns.setSizes([1000] * len(self.views))
        has = bool(self.views)
        self.columns.setVisible(has)
        self.empty.setVisible(not has)
        current = self.controller.comparison
        self.mode.setCurrentIndex(max(self.mode.findData(self.controller.run_mode), 0))
        for widget in (self.rename_button, self.export_button, self.delete_button, self.mode):
            widget.setEnabled(current is not None)
        self.add_button.setEnabled(len(self.views) < MAX_COLUMNS)
        self.composer.setEnabled(has)
        self.refresh_saved()
        self._refresh_marks()

    def _on_plan(self, run_plan) -> None:
        self.plan_line.setText(run_plan.reason if self.views else "")
        self.mode.setCurrentIndex(max(self.mode.findData(self.controller.run_mode), 0))

    def _refresh_column(self, index: int) -> None:
        if 0 <= index < len(self.views):
            self.views[index].refresh()
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        # marks compare this turn's finished replies, once every column has finished
        marks = {} if self.controller.busy else column_stats.summary([c.stats for c in self.controller.columns])
        for i, view in enumerate(self.views):
            view.set_marks(marks.get(i, []))

    def _choose_model(self, index: int, path: str) -> None:
        load, sampling = self._defaults(path)
        self.controller.configure_column(index, path, load, sampling)

    def _edit_settings(self, index: int) -> None:
        column = self.controller.columns[index]
        title = self.views[index].picker.currentText() or f"column {index + 1}"
        sampling = SamplingParams.from_dict(column.record.sampling) if column.record.sampling else SamplingParams()
        dialog = ColumnSettings(title, column.record.model_path, column.record.load, sampling, self._machine(),
                                self._models(), self)
        if dialog.exec():
            self.controller.configure_column(index, column.record.model_path, dialog.load_values(),
                                             dialog.sampling_params())

    # ------------------------------------------------------------ running

    def retry_saving(self) -> bool:
        return self.controller.retry_saving()

    def send(self, text: str) -> None:
        if not self.controller.send(text):
            self.composer.set_text(text)  # not sent: the text stays where the user typed it

    def _on_busy(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        for widget in (self.new_button, self.add_button, self.saved, self.delete_button, self.mode):
            widget.setEnabled(not busy)
        if not busy:
            self.add_button.setEnabled(len(self.views) < MAX_COLUMNS)
            self._refresh_marks()
