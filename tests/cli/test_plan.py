"""`hearth plan`: the memory a model will take, before loading it."""

import json
import subprocess
import sys


def hearth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120)


def test_plan_prints_each_part_and_the_totals(tiny_model):
    result = hearth("plan", "--model", str(tiny_model), "--ctx", "1024")
    assert result.returncode == 0, result.stderr
    for words in ("Weights", "KV cache", "Compute buffers", "Resident once loaded", "At most"):
        assert words in result.stdout


def test_plan_json_follows_the_options(tiny_model):
    result = hearth("plan", "--model", str(tiny_model), "--ctx", "1024", "--kv-cache", "q8_0", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["n_ctx"] == 1024 and data["kv_cache_type"] == "q8_0" and data["flash_attn"] is True
    assert data["parts"]["kv_cache"]["cpu_bytes"] == int(1024 * 2 * 2 * (2 * 16 * 34 / 32))
    assert data["resident_bytes"] < data["peak_bytes"] and data["advice"] == ""


def test_plan_of_a_bad_file_or_option_is_one_line_and_exit_2(broken_models, tiny_model):
    result = hearth("plan", "--model", str(broken_models["truncated"]))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "incomplete" in result.stderr
    result = hearth("plan", "--model", str(tiny_model), "--gpu-layers", "auto")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_chat_json_adds_the_measured_memory_beside_the_plan(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--json", "--ctx", "2048", "Hello")
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout)["memory"]
    # llama.cpp says MiB with two decimals: exact at this size
    assert memory["measured"]["buffers"]["CPU KV"] == memory["plan"]["parts"]["kv_cache"]["cpu_bytes"]
    assert memory["measured"]["resident_bytes"] > 0 and memory["plan"]["n_ctx"] == 2048


def test_plan_of_a_vision_model_counts_its_projector_where_it_runs(tmp_path):
    from tests.support.tiny_vision import write_tiny_vision_pair

    model, projector = write_tiny_vision_pair(tmp_path / "repo")
    on_gpu = json.loads(hearth("plan", "--model", str(model), "--gpu-layers", "-1", "--json").stdout)["parts"]
    weights = on_gpu["projector"]["gpu_bytes"]
    assert 100_000 < weights <= projector.stat().st_size and on_gpu["projector"]["cpu_bytes"] == 0
    assert on_gpu["projector_compute"]["reserved_only"] and on_gpu["projector_compute"]["gpu_bytes"] > 0
    on_cpu = json.loads(hearth("plan", "--model", str(model), "--gpu-layers", "-1", "--no-mmproj-offload",
                               "--json").stdout)["parts"]
    assert on_cpu["projector"] == {"cpu_bytes": weights, "gpu_bytes": 0, "reserved_only": False}
    text = hearth("plan", "--model", str(model)).stdout
    assert "Image projector" in text and "used while a picture is read" in text
    alone = write_tiny_vision_pair(tmp_path / "other")[0]
    (tmp_path / "other" / "mmproj-tiny-vision-f32.gguf").unlink()
    assert "projector" not in json.loads(hearth("plan", "--model", str(alone), "--json").stdout)["parts"]


def test_chat_says_before_the_load_what_it_needs_when_memory_is_short(tiny_model, monkeypatch, capsys):
    from app import hardware
    from app.cli.plan import warn_if_it_may_not_fit
    from app.engine.protocol import LoadOptions

    monkeypatch.setattr(hardware, "free_ram_bytes", lambda: 10**6)  # 1 MB free
    warn_if_it_may_not_fit(LoadOptions(str(tiny_model), n_ctx=2048))
    said = capsys.readouterr().err
    assert said.startswith("This model may not fit: it needs about ") and "1.0 MB free: try a smaller context" in said
    monkeypatch.setattr(hardware, "free_ram_bytes", lambda: 64 * 1024**3)
    warn_if_it_may_not_fit(LoadOptions(str(tiny_model), n_ctx=2048))
    assert capsys.readouterr().err == ""
