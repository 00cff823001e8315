"""MachineInfo: the probe runs off the GUI thread, is kept, and Refresh probes again."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool

from app.machine_probe import MachineProbe, ProbeError
from app.ui.machine import MachineInfo
from app.ui.tasks import BackgroundTasks


def test_the_probe_is_cached_and_refreshed_on_request(qtbot):
    answers = [MachineProbe("none", False, free_ram=1), MachineProbe("none", False, free_ram=2)]
    calls = []

    def probe() -> MachineProbe:
        calls.append(1)
        return answers[len(calls) - 1]

    machine = MachineInfo(BackgroundTasks(QThreadPool()), probe)
    assert machine.probe is None
    with qtbot.waitSignal(machine.changed, timeout=5000):
        machine.refresh()
    assert machine.probe.free_ram == 1
    with qtbot.waitSignal(machine.changed, timeout=5000) as second:
        machine.refresh()
    assert second.args[0].free_ram == 2 and len(calls) == 2


def test_a_failed_probe_says_why_and_keeps_the_last_answer(qtbot):
    def probe() -> MachineProbe:
        raise ProbeError("the hardware check failed: no driver")

    machine = MachineInfo(BackgroundTasks(QThreadPool()), probe)
    with qtbot.waitSignal(machine.failed, timeout=5000) as failed:
        machine.refresh()
    assert failed.args[0] == "the hardware check failed: no driver"
    assert machine.probe is None
