"""`hearth chat --runtime <llama-server> --image`: the managed server is started with the model's projector,
so it reads the picture and answers as the built-in engine does."""

from __future__ import annotations

import json

import pytest

from app import cli
from app.engine.protocol import AUTO_PROJECTOR, LoadOptions
from app.engine.server_runtime import ManagedServer, check_runtime
from tests.support.servers import llama_server_binary
from tests.support.tiny_vision import png_bytes, write_tiny_vision_pair


def test_the_managed_server_is_given_the_paired_projector(tmp_path):
    model, projector = write_tiny_vision_pair(tmp_path / "vision")
    runtime = check_runtime_or_fake(tmp_path)
    paired = ManagedServer(runtime, LoadOptions(path=str(model), mmproj=AUTO_PROJECTOR, mmproj_gpu=False)).command
    assert paired[paired.index("--mmproj") + 1] == str(projector) and "--no-mmproj-offload" in paired
    text_only = ManagedServer(runtime, LoadOptions(path=str(model))).command
    assert "--mmproj" not in text_only


def check_runtime_or_fake(folder):
    binary = folder / "build" / "bin" / "llama-server"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\nprintf '%s\\n' 'version: 7100 (build 11403, commit abc1234)' >&2\n")
    binary.chmod(0o755)
    return check_runtime(folder)


def test_hearth_chat_with_an_image_on_the_managed_server_equals_the_built_in_engine(tmp_path, capsys):
    binary, why = llama_server_binary()
    if binary is None:
        pytest.skip(why)
    model, _projector = write_tiny_vision_pair(tmp_path / "vision")
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    common = ["--model", str(model), "--image", str(photo), "--ctx", "512", "--gpu-layers", "0",
              "--temperature", "0", "--repeat-penalty", "1", "--max-tokens", "6", "--json",
              "What is in this picture?"]
    assert cli.main(["chat", "--runtime", str(binary), *common]) == 0  # was: HTTP 500, said as a "connection" error
    served = json.loads(capsys.readouterr().out)
    assert cli.main(["chat", *common]) == 0
    built_in = json.loads(capsys.readouterr().out)
    assert served["prompt_tokens"] == built_in["prompt_tokens"] and served["reply"] == built_in["reply"]
