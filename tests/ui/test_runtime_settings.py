"""Settings → Engine runtimes: a llama-server is checked off the GUI thread and remembered."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool

from app.settings import Settings
from app.ui.runtime_settings import RuntimeSettingsDialog
from app.ui.tasks import BackgroundTasks


def fake_server(folder, said: str):
    binary = folder / "llama-server"
    binary.write_text(f"#!/bin/sh\nprintf '%s\\n' \"{said}\" >&2\n")
    binary.chmod(0o755)
    return binary


def test_a_runtime_is_checked_and_saved(qtbot, tmp_path):
    binary = fake_server(tmp_path, "version: 7100 (build 11403, commit abc1234)")
    settings = Settings()
    dialog = RuntimeSettingsDialog(settings, BackgroundTasks(QThreadPool()))
    qtbot.addWidget(dialog)
    assert "Built-in: llama.cpp " in dialog.answer.text()
    dialog.path.setText(str(tmp_path))  # a folder holding llama-server is found
    dialog.check()
    qtbot.waitUntil(lambda: "llama-server b11403" in dialog.answer.text(), timeout=10000)
    assert "runs on the CPU only" in dialog.answer.text()
    dialog._save()
    assert settings.engine_runtime == str(tmp_path)
    assert Settings.load().engine_runtime == str(tmp_path)
    assert binary.exists()


def test_what_is_not_a_llama_server_is_said(qtbot, tmp_path):
    dialog = RuntimeSettingsDialog(Settings(), BackgroundTasks(QThreadPool()))
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path))
    dialog.check()
    qtbot.waitUntil(lambda: dialog.answer.text().startswith("Not usable: no llama-server in"), timeout=10000)
