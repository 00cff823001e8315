"""The command line: `hearth chat` on tiny models, and clear failures."""

import json
import subprocess
import sys


def hearth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120)


def test_chat_streams_the_reply(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--temperature", "0", "Hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == " Hello world\n"


def test_chat_json_reports_stats(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--json", "--seed", "3", "--max-tokens", "8",
                    "--system", "be brief", "--ctx", "256", "Hello")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reply"] == " Hello world"
    assert data["stop_reason"] == "eos"
    assert data["completion_tokens"] == 2
    assert data["n_ctx"] == 256 and data["chat_template"] == "gguf"
    assert set(data) >= {"prompt_tokens", "cached_tokens", "ttft_s", "prompt_tok_s", "decode_tok_s"}


def test_bad_model_is_one_line_and_exit_2(broken_models):
    result = hearth("chat", "--model", str(broken_models["truncated"]), "Hello")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "incomplete" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_architecture_is_named_in_one_line_and_exit_2(broken_models):
    result = hearth("chat", "--model", str(broken_models["wrong_arch"]), "Hello")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "This model's architecture is `notarealarch`; the llama.cpp in this Hearth (" in result.stderr
    assert result.stderr.rstrip().endswith("does not know it")


def test_bad_option_is_one_line_and_exit_2(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--ctx", "lots", "Hello")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--ctx" in result.stderr


def test_chat_json_gives_reasoning_apart(thinking_model):
    result = hearth("chat", "--model", str(thinking_model), "--json", "--temperature", "0", "--thinking", "on",
                    "--ctx", "256", "Hello")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reasoning"] == "the user chat"
    assert data["reply"] == "Hello world"
    assert data["reasoning_tokens"] == 5 and data["completion_tokens"] == 7


def test_chat_prints_thinking_prefixed_before_the_answer(thinking_model):
    result = hearth("chat", "--model", str(thinking_model), "--temperature", "0", "Hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "> the user chat\n\nHello world\n"


def test_chat_json_of_a_plain_model_has_empty_reasoning(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--json", "--temperature", "0", "Hello")
    data = json.loads(result.stdout)
    assert data["reasoning"] == "" and data["reply"] == " Hello world"


def test_bad_thinking_value_is_refused(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--thinking", "maybe", "Hello")
    assert result.returncode == 2 and "--thinking" in result.stderr


def test_chat_exits_2_with_one_line_when_the_engine_hangs(tiny_model, monkeypatch, capsys):
    import multiprocessing
    import os
    import signal

    from app import cli
    from app.engine import client

    monkeypatch.setattr(client, "HANG_SECONDS", 1.5)
    real_stdout = sys.stdout

    class StopEngineOnFirstText:
        def write(self, text: str) -> int:
            for child in multiprocessing.active_children():
                if child.name == "hearth-engine":
                    os.kill(child.pid, signal.SIGSTOP)
            return real_stdout.write(text)

        def flush(self) -> None:
            real_stdout.flush()

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdout", StopEngineOnFirstText())
    code = cli.main(["chat", "--model", str(tiny_model), "--max-tokens", "0", "--temperature", "0", "Hello"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["hearth: the engine stopped responding; it was restarted"]


def test_chat_exits_2_with_one_line_when_the_engine_hangs_during_the_load(tiny_model, monkeypatch, capsys):
    import os
    import signal

    from app import cli
    from app.engine import client

    monkeypatch.setattr(client, "HANG_SECONDS", 1.5)
    real_load = client.EngineClient.load

    def load_that_stops_the_engine(self, options, on_progress=None, **kwargs):
        def stop_engine(fraction: float) -> None:
            if fraction < 1.0 and self.pid is not None:
                os.kill(self.pid, signal.SIGSTOP)

        return real_load(self, options, stop_engine, **kwargs)

    monkeypatch.setattr(client.EngineClient, "load", load_that_stops_the_engine)
    code = cli.main(["chat", "--model", str(tiny_model), "Hello"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == ["hearth: the engine stopped responding; it was restarted"]


def test_remote_chat_json_keeps_the_partial_reply_when_the_stream_is_cut(capsys):
    from app import cli
    from tests.support.servers import SilentServer

    with SilentServer(cut_after=["Once upon", " a time"]) as server:
        code = cli.main(["chat", "--engine", server.url, "--json", "Tell me a story"])
    out, err = capsys.readouterr()
    assert code == 2
    printed = json.loads(out)
    assert printed["reply"] == "Once upon a time"
    assert "cut mid-reply" in printed["error"] and printed["error_kind"] == "connection"
    assert printed["model"] == "quiet" and "cut mid-reply" in err
