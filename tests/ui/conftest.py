"""The real window on the offscreen platform, with the real engine and tiny models."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QThreadPool

from app.machine_probe import MachineProbe

# The window's hardware check, without starting a probe process for every test (tests of the
# probe itself are in tests/test_machine_probe.py and tests/test_architecture.py).
CPU_ONLY = MachineProbe("none", False, (), 8 * 1024**3, 16 * 1024**3)


@pytest.fixture
def make_window(qtbot):
    from app.settings import Settings
    from app.ui.application import build_window, shutdown

    made = []

    def make():
        window = build_window(Settings.load(), machine_probe=lambda: CPU_ONLY)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        if window.isVisible():
            window.close()
        shutdown(window)
    QThreadPool.globalInstance().waitForDone(5000)


@pytest.fixture
def window(make_window):
    return make_window()


def load(qtbot, window, path, n_ctx: int = 1024):
    page = window.chat_page
    page.load_settings.ctx.setValue(n_ctx)
    with qtbot.waitSignal(page.model_loaded, timeout=30000) as blocker:
        assert window.model_opener.open_with_model(str(path))
    return blocker.args[0]


def wait_reply(qtbot, page, timeout: int = 30000):
    qtbot.waitUntil(lambda: not page.streaming, timeout=timeout)
