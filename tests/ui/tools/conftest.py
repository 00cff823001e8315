"""The tools' GUI tests."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread():
    """A test's ToolService (a QObject with a timer, in reference cycles) is collected here, on the GUI
    thread, when the test ends: left to the cycle collector, it may be freed on an MCP or pool thread
    during a later test, and a QTimer destroyed off its thread brings Qt down."""
    yield
    gc.collect()
