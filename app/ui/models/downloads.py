"""Downloads in the GUI: a list model, the manager that runs them off the GUI thread, and the view."""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.formatting import human_bytes
from app.hub.download import Downloader
from app.hub.download_record import DownloadProgress, DownloadRecord, DownloadStatus, saved_downloads
from app.hub.errors import HubError, HubErrorKind
from app.hub.quant import GGUFChoice
from app.library.file_hashes import remember_hashes
from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks


@dataclass(frozen=True)
class DownloadRow:
    record: DownloadRecord
    status: DownloadStatus
    done_bytes: int = 0
    speed_bps: float = 0.0
    eta_s: float | None = None
    message: str = ""
    path: str = ""

    @property
    def key(self) -> str:
        return self.record.key


STATUS_WORDS = {  # what the Status column says for each state
    DownloadStatus.QUEUED: "queued",
    DownloadStatus.DOWNLOADING: "downloading",
    DownloadStatus.PAUSED: "paused",
    DownloadStatus.FAILED: "failed",
    DownloadStatus.DONE: "done",
}
COLUMNS = ["Model", "Progress", "Size", "Speed", "Time left", "Status"]


class DownloadListModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[DownloadRow] = []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        total = row.record.total_bytes
        if role == Qt.ItemDataRole.UserRole:
            return row.done_bytes / total if total else 0.0
        if role == Qt.ItemDataRole.ToolTipRole:
            return as_html(row.message or f"{row.record.repo_id}/{row.record.name}")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == 0:
            return f"{row.record.repo_id} · {row.record.name}"
        if column == 1:
            return f"{100 * row.done_bytes / total:.0f}%" if total else ""
        if column == 2:
            return f"{human_bytes(row.done_bytes)} / {human_bytes(total)}"
        downloading = row.status == DownloadStatus.DOWNLOADING
        if column == 3:
            return f"{human_bytes(row.speed_bps)}/s" if downloading and row.speed_bps else ""
        if column == 4:
            return f"{row.eta_s:.0f} s" if downloading and row.eta_s is not None else ""
        shows_message = row.status == DownloadStatus.FAILED or (downloading and row.message)
        return row.message if shows_message else STATUS_WORDS[row.status]

    def row_of(self, key: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.key == key), -1)

    def upsert(self, row: DownloadRow) -> None:
        i = self.row_of(row.key)
        if i < 0:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
            self.rows.append(row)
            self.endInsertRows()
        else:
            self.rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def update(self, key: str, **changes) -> DownloadRow | None:
        i = self.row_of(key)
        if i < 0:
            return None
        self.rows[i] = replace(self.rows[i], **changes)
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
        return self.rows[i]

    def remove(self, key: str) -> None:
        i = self.row_of(key)
        if i >= 0:
            self.beginRemoveRows(QModelIndex(), i, i)
            del self.rows[i]
            self.endRemoveRows()


class DownloadManager(QObject):
    """Starts, pauses, resumes and cancels downloads; every signal arrives on the GUI thread."""

    download_finished = Signal(str)  # local path of a finished model
    download_failed = Signal(str)  # message
    _progress = Signal(str, object)  # key, Progress: emitted on the download's thread, delivered on the GUI's

    def __init__(self, parent: QObject | None = None, max_parallel: int = 2,
                 tasks: BackgroundTasks | None = None) -> None:
        super().__init__(parent)
        self.model = DownloadListModel(self)
        self.pool = QThreadPool(self)  # downloads run `max_parallel` at a time, apart from short jobs
        self.pool.setMaxThreadCount(max_parallel)
        self._owns_tasks = tasks is None
        self.tasks = tasks or BackgroundTasks(self.pool, self)  # quitting stops it: every download pauses
        self._closed = False
        self._progress.connect(self._on_progress)
        self.running: dict[str, Downloader] = {}
        for record in saved_downloads():
            status = DownloadStatus.FAILED if record.status == DownloadStatus.FAILED else DownloadStatus.PAUSED
            try:
                done = record.total_bytes - self._downloader(record).missing_bytes()
            except HubError:
                continue  # a record naming an unsafe path is ignored
            self.model.upsert(DownloadRow(record, status, done, message=record.error))

    def _downloader(self, record: DownloadRecord) -> Downloader:
        return Downloader(record)  # the Hub token, if any, is read from huggingface_hub's store

    def start(self, repo_id: str, choice: GGUFChoice) -> str:
        record = DownloadRecord.for_choice(repo_id, choice)
        return self._start(record)

    def _start(self, record: DownloadRecord) -> str:
        if self._closed:
            return ""
        if record.key in self.running:
            return record.key
        try:
            downloader = self._downloader(record)
        except HubError as exc:
            self.download_failed.emit(exc.message)
            return ""
        key, done = record.key, record.total_bytes - downloader.missing_bytes()

        def work() -> Path:
            path = downloader.run(lambda progress: self._progress.emit(key, progress))
            # the verified SHA-256s go to the library index: it never reads the file to know it
            remember_hashes((target, str(part.get("sha256") or ""))
                            for target, part in zip(downloader.targets, record.parts))
            return path

        started = self.tasks.run(work,
                                 lambda path: self._on_finished(key, str(path)),
                                 lambda error: self._on_failed(key, error),
                                 pool=self.pool, cancel=downloader.pause)  # quitting pauses: it resumes later
        if not started:
            return ""  # quitting
        self.running[key] = downloader
        self.model.upsert(DownloadRow(record, DownloadStatus.DOWNLOADING, done))
        return key

    def pause(self, key: str) -> None:
        if key in self.running:
            self.running[key].pause()

    def resume(self, key: str) -> None:
        i = self.model.row_of(key)
        if i >= 0 and key not in self.running:
            self._start(self.model.rows[i].record)

    def cancel(self, key: str) -> None:
        if key in self.running:
            self.running[key].cancel()
            return
        i = self.model.row_of(key)
        if i >= 0:
            row = self.model.rows[i]
            if row.status != DownloadStatus.DONE:
                try:
                    self._downloader(row.record).discard()
                except HubError:
                    pass
            self.model.remove(key)

    def shutdown(self, seconds: float = 0.0) -> bool:
        """Pause every download (partial files and records stay, so each resumes next time), also one
        waiting on a silent server, and wait up to `seconds` for their threads; True if all ended.

        With the window's shared BackgroundTasks, the quit sequence's tasks.stop() and wait() do this too."""
        self._closed = True
        if self._owns_tasks:
            self.tasks.stop()
        for downloader in list(self.running.values()):
            downloader.pause()
        return self.pool.waitForDone(max(0, int(seconds * 1000)))

    @Slot(str, object)
    def _on_progress(self, key: str, progress: DownloadProgress) -> None:
        waiting = (f"the Hub asked us to wait: retrying in {ceil(progress.waiting_s)} s"
                   if progress.waiting_s > 0 else "")
        self.model.update(key, done_bytes=progress.done_bytes, speed_bps=progress.speed_bps, eta_s=progress.eta_s,
                          status=DownloadStatus.DOWNLOADING, message=waiting)

    def _on_finished(self, key: str, path: str) -> None:
        self.running.pop(key, None)
        row = self.model.update(key, status=DownloadStatus.DONE, path=path, message="ready")
        if row is not None:
            self.model.update(key, done_bytes=row.record.total_bytes)
        self.download_finished.emit(path)

    def _on_failed(self, key: str, error: Exception) -> None:
        if isinstance(error, HubError):
            kind, message = error.kind, error.message
        else:  # a failed download must never take the app down
            kind, message = None, f"{type(error).__name__}: {error}"
        self.running.pop(key, None)
        if kind == HubErrorKind.CANCELLED:
            self.model.remove(key)
        elif kind == HubErrorKind.PAUSED:
            self.model.update(key, status=DownloadStatus.PAUSED, speed_bps=0.0, eta_s=None, message="")
        else:
            self.model.update(key, status=DownloadStatus.FAILED, message=message, speed_bps=0.0, eta_s=None)
            self.download_failed.emit(message)


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter, option, index) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 4, -2, -4)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(1000 * (index.data(Qt.ItemDataRole.UserRole) or 0))
        bar.text = index.data() or ""
        bar.textVisible = True
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class DownloadsView(QWidget):
    def __init__(self, manager: DownloadManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.table = QTableView()
        self.table.setModel(manager.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(1, ProgressDelegate(self.table))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName("Downloads")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel")
        self.pause_button.setToolTip("Pause the selected download; it resumes where it stopped")
        self.resume_button.setToolTip("Resume the selected download, fetching only the missing bytes")
        self.cancel_button.setToolTip("Stop the selected download and delete what was fetched")
        buttons = QHBoxLayout()
        for b in (self.pause_button, self.resume_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.pause_button.clicked.connect(lambda: self._act(manager.pause))
        self.resume_button.clicked.connect(lambda: self._act(manager.resume))
        self.cancel_button.clicked.connect(lambda: self._act(manager.cancel))

    def _act(self, action) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            action(self.manager.model.rows[index.row()].key)
