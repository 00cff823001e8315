"""A read-only HEARTH_HOME: commands that only read work; one that must write says so in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.disks import read_only
from tests.support.fake_hub import TEST_REPO


def hearth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))


def test_models_doctor_and_chat_work_in_a_read_only_home(hearth_home, scripted_model):
    with read_only(hearth_home):
        models = hearth("models", "--json")
        assert models.returncode == 0 and json.loads(models.stdout) == [], models.stderr
        doctor = hearth("doctor")
        assert doctor.returncode == 0 and "database" in doctor.stdout, doctor.stderr
        chat = hearth("chat", "--model", str(scripted_model), "--temperature", "0", "Hello")
        assert chat.returncode == 0 and chat.stdout == " Hello world\n", chat.stderr
    assert list(hearth_home.iterdir()) == []  # and none of them made a folder


def test_a_download_into_a_read_only_home_is_one_line_and_exit_2(hearth_home, fake_hub):
    with read_only(hearth_home):
        result = hearth("download", TEST_REPO, "--quant", "Q8_0")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
