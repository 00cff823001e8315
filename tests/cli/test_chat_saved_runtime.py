"""`hearth chat` runs a model on the engine the app would: a model set to llama-server in the app (File →
Engine runtimes, the load settings' Engine row) runs there from the command line too, with the same reply."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.settings import Settings
from tests.support.servers import llama_server_binary


def hearth_chat(model, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "chat", "--model", str(model), "--temperature", "0",
                           "--repeat-penalty", "1", "--max-tokens", "12", "--ctx", "2048", "--json", *extra,
                           "What is the capital of France?"], capture_output=True, text=True, timeout=180)


def test_a_model_set_to_the_llama_server_runs_there_from_the_command_line(smollm2):
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    built_in = hearth_chat(smollm2)
    settings = Settings.load()
    settings.engine_runtime = str(binary)
    settings.model_engines = {str(smollm2): "llama-server"}
    settings.save()
    served = hearth_chat(smollm2)
    assert built_in.returncode == served.returncode == 0, served.stderr
    assert "memory" in json.loads(built_in.stdout) and "memory" not in json.loads(served.stdout)  # a server's reply
    assert json.loads(served.stdout)["reply"] == json.loads(built_in.stdout)["reply"]

    settings.model_engines = {str(smollm2): "built-in"}  # the user's choice wins over the runtime
    settings.save()
    assert "memory" in json.loads(hearth_chat(smollm2).stdout)
