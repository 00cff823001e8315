"""`hearth compare`: the same prompt on several models, each reply equal to `hearth chat` alone."""

from __future__ import annotations

import json

import pytest

from app.cli.compare import Outcome, stats_table, summary_line
from tests.cli.test_chat import hearth

FIELDS = {"model", "reply", "prompt_tokens", "completion_tokens", "ttft_s", "decode_tok_s", "stop_reason", "load_s",
          "peak_rss_bytes"}


def test_greedy_replies_and_counts_equal_hearth_chat_alone(smollm2, scripted_model):
    flags = ["--temperature", "0", "--max-tokens", "24", "--ctx", "1024", "--system", "Answer briefly."]
    prompt = "What is the capital of France?"
    result = hearth("compare", "--model", str(smollm2), "--model", str(scripted_model), "--json", *flags, prompt)
    assert result.returncode == 0, result.stderr
    compared = json.loads(result.stdout)
    assert [set(c) for c in compared] == [FIELDS, FIELDS]
    assert [c["model"] for c in compared] == [str(smollm2), str(scripted_model)]
    for entry, path in zip(compared, (smollm2, scripted_model)):
        alone = json.loads(hearth("chat", "--model", str(path), "--json", *flags, prompt).stdout)
        assert (entry["reply"], entry["prompt_tokens"], entry["completion_tokens"], entry["stop_reason"]) == (
            alone["reply"], alone["prompt_tokens"], alone["completion_tokens"], alone["stop_reason"])
        assert entry["peak_rss_bytes"] > 10 * 1024**2 and entry["load_s"] > 0
    assert len(compared[0]["reply"].split()) >= 3  # a real reply (its wording is the model's: equality is checked)
    assert compared[1]["reply"] == " Hello world"


def test_text_output_has_a_header_per_model_then_the_table(scripted_model, tiny_model):
    result = hearth("compare", "--model", str(scripted_model), "--model", str(tiny_model), "--temperature", "0",
                    "--max-tokens", "4", "Hello")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index(f"## {scripted_model.name}") < out.index(" Hello world") < out.index(f"## {tiny_model.name}")
    table = out[out.index("model  "):]
    assert scripted_model.name in table and "peak memory" in table and "eos" in table
    assert "fastest: " in out


def test_a_model_that_fails_is_reported_and_the_others_still_run(scripted_model, broken_models):
    result = hearth("compare", "--model", str(broken_models["truncated"]), "--model", str(scripted_model), "--json",
                    "--temperature", "0", "Hello")
    assert result.returncode == 2
    broken, good = json.loads(result.stdout)
    assert broken["error"] and broken["reply"] == ""
    assert good["reply"] == " Hello world" and "error" not in good
    assert result.stderr.strip().splitlines() == [f"hearth: {broken_models['truncated'].name}: {broken['error']}"]


@pytest.mark.parametrize("args, words", [
    (["--model", "a.gguf", "Hello"], "at least two --model"),
    (["--model", "a.gguf", "--model", "b.gguf", "--temperature", "-1", "Hello"], "--temperature"),
])
def test_bad_flags_are_one_line_and_exit_2(args, words):
    result = hearth("compare", *args)
    assert result.returncode == 2 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_table_and_summary_name_the_winners():
    fast = Outcome("/m/fast.gguf", "hi", 10, 5, 0.5, 90.0, "eos", 1.0, 300 * 10**6)
    long = Outcome("/m/long.gguf", "hello there", 10, 50, 0.2, 40.0, "length", 2.0, 900 * 10**6)
    broken = Outcome("/m/broken.gguf", error="not a GGUF file")
    table = stats_table([fast, long, broken])
    assert table.splitlines()[0].split() == ["model", "prompt", "reply", "first", "token", "tok/s", "stop", "load",
                                             "peak", "memory"]
    assert "900.0 MB" in table and "broken.gguf" in table and "error" in table
    assert summary_line([fast, long, broken]) == ("fastest: fast.gguf · first token: long.gguf · "
                                                  "longest reply: long.gguf · shortest reply: fast.gguf")
    assert summary_line([fast, broken]) == ""


def test_a_model_on_a_server_is_compared_with_a_local_one(scripted_model):
    from app.engine import EngineClient, LoadOptions
    from app.engine.router import remote_path
    from app.server.background import BackgroundServer
    from tests.support.servers import free_port

    serving = EngineClient()
    serving.load(LoadOptions(str(scripted_model), n_ctx=1024))
    server = BackgroundServer(serving, "scripted", port=free_port())
    server.start()
    try:
        remote = remote_path(server.url.rsplit("/v1", 1)[0], "scripted")
        result = hearth("compare", "--model", remote, "--model", str(scripted_model), "--json", "--temperature", "0",
                        "Hello")
        assert result.returncode == 0, result.stderr
        there, here = json.loads(result.stdout)
        assert there["reply"] == here["reply"] == " Hello world"
        assert there["peak_rss_bytes"] == 0 and here["peak_rss_bytes"] > 0  # a server's memory is not ours to read
    finally:
        server.stop()
        serving.close()
