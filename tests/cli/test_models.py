"""`hearth models`: a file in two places is one entry listing both; a base model says so."""

from __future__ import annotations

import argparse
import json
import shutil

from app import paths
from app.cli.models import run_models
from app.library.model_kind import BASE_MODEL
from tests.support.tiny_gguf import write_tiny_model


def test_copies_are_one_entry_and_base_models_are_marked(tiny_model, capsys):
    first = paths.models_dir() / "a" / "Tiny.gguf"
    second = paths.models_dir() / "b" / "Tiny.gguf"
    for path in (first, second):
        path.parent.mkdir(parents=True)
        shutil.copy(tiny_model, path)
    write_tiny_model(paths.models_dir() / "gemma-3-270m-Q8_0.gguf", chat_template=None, name="Gemma 3 270m")
    assert run_models(argparse.Namespace(json=True, engine=None)) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed["Tiny · F32"]["copies"] == [str(second)] and listed["Tiny · F32"]["path"] == str(first)
    assert listed["Gemma 3 270M · Q8_0"]["base_model"] and not listed["Tiny · F32"]["base_model"]
    assert run_models(argparse.Namespace(json=False, engine=None)) == 0
    text = capsys.readouterr().out
    assert f"also at {second}" in text and text.count(BASE_MODEL) == 1
