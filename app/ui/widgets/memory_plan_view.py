"""The memory plan in the load settings: each component's planned bytes (CPU and GPU), the total, whether it
fits, and, once the model is loaded, what llama.cpp reported per buffer and the engine's resident memory.

Generic over the plan's components (app/library/memory_plan.py): a component it does not name in words
(a vision projector, say) is shown under its own name. The plan is arithmetic over the header the library
already read, so it is computed on the GUI thread as the settings change; nothing here reads a file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.protocol import ModelInfo
from app.formatting import human_bytes
from app.library.gguf_info import GGUFInfo
from app.library.memory_plan import PART_WORDS, MemoryPlan, out_of_memory_advice, plan_memory, with_sequences

# llama.cpp's buffer kinds (the last word of "CPU KV", "CUDA0 model", "CPU_Mapped model") and the plan's part
BUFFER_PARTS = {"model": "weights", "KV": "kv_cache", "compute": "compute", "output": "output"}
RESIDENT = "Resident (engine process)"


def part_words(name: str) -> str:
    return PART_WORDS.get(name, name.replace("_", " ").capitalize())


def measured_parts(info: ModelInfo) -> dict[str, int]:
    """llama.cpp's buffers summed per plan part over every device; a kind the plan has no part for keeps
    its own name (so a new buffer still shows)."""
    parts: dict[str, int] = {}
    for name, size in info.buffers:
        kind = name.split()[-1] if name.split() else name
        key = "repack" if name.startswith("CPU_REPACK") else BUFFER_PARTS.get(kind, kind.lower())
        parts[key] = parts.get(key, 0) + size
    return parts


class MemoryPlanView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan: MemoryPlan | None = None
        self.measured: ModelInfo | None = None
        self.advice = ""  # "needs about X, Y free: try ..." when the plan does not fit, else ""
        self.sequences = 1  # 2 while the app's API server shares the model with the chats (set_sequences)
        self._shown: tuple | None = None  # show_settings' last arguments, to plan again for another count
        self.table = QTableWidget(0, 3)
        self.table.setAccessibleName("Memory plan")
        self.table.setHorizontalHeaderLabels(["Component", "Planned", "Measured"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("Compute buffers (reserved)") + 150)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # compact rows
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.fit = QLabel()
        self.fit.setTextFormat(Qt.TextFormat.PlainText)
        self.fit.setWordWrap(True)
        self.fit.setAccessibleName("Memory fit")
        title = QLabel("Memory plan")
        title.setStyleSheet("font-weight: 600;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.table)
        layout.addWidget(self.fit)
        layout.addStretch(1)

    def show_settings(self, info: GGUFInfo | None, n_ctx: int, n_gpu_layers: int, kv_cache_type: str,
                      flash_attn: bool | None, n_batch: int, free_ram: int, free_vram: int = 0,
                      projector: GGUFInfo | None = None, projector_gpu: bool = False) -> None:
        """The plan for loading the model with this header (None: a remote model, or none) with these settings
        (and a vision model's projector, on the GPU or the CPU)."""
        self._shown = (info, n_ctx, n_gpu_layers, kv_cache_type, flash_attn, n_batch, free_ram, free_vram, projector,
                       projector_gpu)
        plan = (plan_memory(info, n_ctx, n_gpu_layers, kv_cache_type, flash_attn, n_batch, projector, projector_gpu)
                if info is not None else None)
        self.show_plan(with_sequences(plan, self.sequences) if plan is not None else None, free_ram, free_vram)

    def set_sequences(self, sequences: int) -> None:
        """How many sequences the next load gets (EngineService.sequences_changed): the plan is made again."""
        self.sequences = max(sequences, 1)
        if self._shown is not None:
            self.show_settings(*self._shown)

    def show_plan(self, plan: MemoryPlan | None, free_ram: int, free_vram: int = 0) -> None:
        """The plan for the settings shown (None: no local model chosen); measured figures stay only while
        they belong to the same settings' model."""
        self.plan = plan
        self.advice = out_of_memory_advice(plan, free_ram, free_vram) if plan is not None and free_ram > 0 else ""
        if plan is None:
            self.fit.setText("")
        elif self.advice:
            self.fit.setText(f"May not fit: {self.advice}.")
        else:
            room = f", {human_bytes(free_ram)} free" if free_ram > 0 else ""
            self.fit.setText(f"About {human_bytes(plan.resident_bytes)} once loaded, up to "
                             f"{human_bytes(plan.peak_bytes)} while a long prompt is read{room}.")
        self.fit.setStyleSheet("color: #dc2626;" if self.advice else "")
        self._fill()

    def show_measured(self, info: ModelInfo | None) -> None:
        """What the load took (ModelInfo.buffers, .resident_bytes), or None to show the plan alone."""
        self.measured = info
        self._fill()

    def rows(self) -> list[tuple[str, str, str]]:
        """(component, planned, measured) as shown: for tests and the accessibility tree alike."""
        def text(r: int, c: int) -> str:
            item = self.table.item(r, c)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1), text(r, 2)) for r in range(self.table.rowCount())]

    def _fill(self) -> None:
        plan, info = self.plan, self.measured
        rows: list[tuple[str, str, str]] = []
        if plan is not None:
            measured = measured_parts(info) if info is not None else {}
            gpu = plan.gpu_bytes > 0
            for part in plan.parts:
                planned = human_bytes(part.total)
                if gpu:
                    planned = f"{planned} (GPU {human_bytes(part.gpu)})"
                words = part_words(part.name) + (" (reserved)" if part.reserved_only else "")
                if part.name == "kv_cache" and plan.sequences > 1:  # the chats' and the API server's
                    words += f" ×{plan.sequences} (chats, API)"
                got = measured.pop(part.name, None)
                if not part.total and got is None:
                    continue  # nothing repacked, say: no row
                rows.append((words, planned, human_bytes(got) if got is not None else ""))
            for name, size in measured.items():  # buffers the plan has no part for
                rows.append((part_words(name), "", human_bytes(size)))
            resident = human_bytes(info.resident_bytes) if info is not None and info.resident_bytes else ""
            rows.append((RESIDENT, human_bytes(plan.resident_bytes), resident))
            if gpu:
                rows.append(("GPU memory", human_bytes(plan.gpu_bytes), ""))
            rows.append(("Total, at most", human_bytes(plan.peak_bytes), ""))
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.setColumnHidden(2, info is None)
        # every row shown, without a scroll bar (the header's height is its size hint until it is first laid out)
        header_height = max(self.table.horizontalHeader().height(), self.table.horizontalHeader().sizeHint().height())
        rows_height = sum(self.table.rowHeight(r) for r in range(len(rows)))
        self.table.setFixedHeight(header_height + rows_height + 2 * self.table.frameWidth() + 2)
