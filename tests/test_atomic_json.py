import json
import os

import pytest

from app.atomic_json import write_json_atomically


def test_writes_the_data_and_creates_the_folder(tmp_path):
    target = tmp_path / "a" / "b" / "state.json"
    write_json_atomically(target, {"x": [1, 2]})
    assert json.loads(target.read_text(encoding="utf-8")) == {"x": [1, 2]}


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "state" / "settings.json"
    write_json_atomically(target, {"kept": True})

    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_json_atomically(target, {"kept": False})
    assert json.loads(target.read_text(encoding="utf-8")) == {"kept": True}
    assert [p.name for p in target.parent.iterdir()] == ["settings.json"]


def test_data_that_is_not_json_leaves_no_file(tmp_path):
    target = tmp_path / "state" / "bad.json"
    with pytest.raises(TypeError):
        write_json_atomically(target, {"x": object()})
    assert list(target.parent.iterdir()) == []
