"""hearth search / files / download / models against the local Hub server."""

import json
import os
import subprocess
import sys

from tests.hub.conftest import REPO


def hearth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))


def test_search_json(fake_hub):
    result = hearth("search", "tiny", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["repo"] == REPO


def test_files_lists_quants_with_fit(fake_hub):
    result = hearth("files", REPO)
    assert result.returncode == 0, result.stderr
    assert "Q4_K_M" in result.stdout and "Q8_0" in result.stdout and "parts)" in result.stdout
    data = json.loads(hearth("files", REPO, "--json").stdout)
    assert {d["fit"] for d in data} <= {"full_gpu", "partial", "cpu", "too_large"}


def test_download_json_events_then_models_lists_it(fake_hub):
    result = hearth("download", REPO, "--quant", "Q8_0", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "progress" and events[-1]["event"] == "done"
    assert events[-1]["path"].endswith("hearth-test/Tiny-Chat-GGUF/tiny-chat.Q8_0.gguf")
    models = json.loads(hearth("models", "--json").stdout)
    assert [m["quantization"] for m in models] == ["F32"] and models[0]["chat_template"] is True
    # the downloaded model chats
    chat = hearth("chat", "--model", events[-1]["path"], "--max-tokens", "4", "--json", "Hello")
    assert chat.returncode == 0 and json.loads(chat.stdout)["completion_tokens"] == 4


def test_download_of_unknown_file_or_quant_is_a_clear_error(fake_hub):
    result = hearth("download", REPO, "nope.gguf")
    assert result.returncode == 2 and "no GGUF file named nope.gguf" in result.stderr
    result = hearth("download", REPO, "--quant", "Q3_K_S")
    assert result.returncode == 2 and "it has:" in result.stderr


def test_hub_error_is_one_line(fake_hub):
    fake_hub.fail(401, times=5)
    result = hearth("files", REPO)
    assert result.returncode == 2 and "token" in result.stderr and "Traceback" not in result.stderr


def test_doctor_reports_backend_and_folders():
    result = hearth("doctor", "--json")
    data = json.loads(result.stdout)
    assert data["gpu_backend"] in ("none", "cuda", "metal", "vulkan", "rocm", "sycl")
    assert data["folders"]["models"].startswith(os.environ["HEARTH_HOME"])
    assert data["ram_total_bytes"] > 0


def test_download_on_a_full_disk_exits_2_with_one_line(fake_hub, monkeypatch, capsys):
    import errno

    from app import cli
    from app.hub import download_sink

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download_sink.Sink, "_write", no_space)
    code = cli.main(["download", REPO, "--quant", "Q8_0"])
    err = capsys.readouterr().err
    last = err.strip().splitlines()
    assert code == 2
    assert last[-1].startswith("hearth: the disk is full: tiny-chat.Q8_0.gguf could not be written")
    assert "Traceback" not in err


def test_download_shows_a_capped_retry_after_countdown(fake_hub, monkeypatch, capsys):
    from app import cli
    from app.hub import download

    monkeypatch.setattr(download, "MAX_RETRY_AFTER", 0.2)
    fake_hub.fail(429, times=1, path_contains="/resolve/", retry_after=100000)
    code = cli.main(["download", REPO, "--quant", "Q8_0", "--json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    waits = [e for e in events if e["event"] == "waiting"]
    assert waits and all(e["seconds"] <= 1 for e in waits)
    assert events[-1]["event"] == "done"


def test_downloading_a_vision_model_brings_its_projector(fake_hub, tiny_model, tmp_path):
    from tests.support.tiny_vision import write_tiny_projector

    projector = write_tiny_projector(tmp_path / "p.gguf").read_bytes()
    fake_hub.add_repo("hearth-test/Seeing-GGUF", {"seeing-Q8_0.gguf": tiny_model.read_bytes(),
                                                  "mmproj-seeing-f16.gguf": projector,
                                                  "mmproj-seeing-Q8_0.gguf": projector + b"\0"})
    files = json.loads(hearth("files", "hearth-test/Seeing-GGUF", "--json").stdout)
    assert [f["name"] for f in files] == ["seeing-Q8_0.gguf"]
    assert files[0]["projectors"] == ["mmproj-seeing-Q8_0.gguf", "mmproj-seeing-f16.gguf"]
    result = hearth("download", "hearth-test/Seeing-GGUF", "--mmproj", "mmproj-seeing-f16.gguf")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("seeing-Q8_0.gguf")  # the model's path alone, as before
    assert "image projector: " in result.stderr and "mmproj-seeing-Q8_0" not in result.stderr  # the one asked for
    models = json.loads(hearth("models", "--json").stdout)
    model = next(m for m in models if m["path"].endswith("seeing-Q8_0.gguf"))
    assert model["projector"].endswith("mmproj-seeing-f16.gguf")
    bad = hearth("download", "hearth-test/Seeing-GGUF", "--mmproj", "nope.gguf")
    assert bad.returncode == 2 and "no projector named nope.gguf" in bad.stderr
