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


def test_a_vision_model_names_its_projector_which_is_no_model_of_its_own(capsys):
    from tests.support.tiny_vision import write_tiny_projector, write_tiny_vision_pair

    model, projector = write_tiny_vision_pair(paths.models_dir() / "org" / "Vision-GGUF")
    lonely = write_tiny_projector(paths.models_dir() / "lonely" / "mmproj-x.gguf")
    assert run_models(argparse.Namespace(json=True, engine=None)) == 0
    listed = {m["path"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed[str(model)]["projector"] == str(projector)
    assert listed[str(projector)] == {"path": str(projector), "source": "hearth", "projector_for": str(model)}
    assert listed[str(lonely)]["projector_for"] is None
    assert run_models(argparse.Namespace(json=False, engine=None)) == 0
    text = capsys.readouterr().out
    assert f"sees images with its projector {projector}" in text and "broken" not in text
    assert f"projector  {lonely}  (an image projector with no vision model beside it)" in text
