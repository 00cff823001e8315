"""The GUI's cached view of this computer's GPU and memory, probed in a short-lived process."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.machine_probe import MachineProbe, probe_in_subprocess
from app.ui.tasks import BackgroundTasks


class MachineInfo(QObject):
    changed = Signal(object)  # MachineProbe
    failed = Signal(str)

    def __init__(self, tasks: BackgroundTasks, probe: Callable[[], MachineProbe] = probe_in_subprocess,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._probe = probe
        self.probe: MachineProbe | None = None  # None until the first probe reports
        self._running = False

    def refresh(self) -> None:
        """Probe again (at start, and when the user asks: a GPU freed or a driver installed)."""
        if self._running:
            return
        self._running = True
        self.tasks.run(self._probe, self._done, self._failed)

    def _done(self, probe: MachineProbe) -> None:
        self._running = False
        self.probe = probe
        self.changed.emit(probe)

    def _failed(self, error: Exception) -> None:
        self._running = False
        self.failed.emit(str(error))
