"""The demo model's install record: where it goes, how it is recognised, why it is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.library import demo_model


def test_install_puts_the_file_in_the_demo_folder_and_labels_it(smollm2, hearth_home):
    def fetch(dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        (dest / demo_model.FILE_NAME).symlink_to(smollm2)
        return dest / demo_model.FILE_NAME

    path = demo_model.install(fetch)
    assert path.parent == demo_model.demo_dir()
    assert demo_model.is_demo(path)
    assert not demo_model.is_demo(smollm2)
    assert demo_model.install_problem() == ""
    assert json.loads(demo_model.state_path().read_text())["installed"] is True


def test_a_failed_install_is_remembered_with_its_reason(hearth_home):
    def offline(dest: Path) -> Path:
        raise demo_model.DemoModelError("the demo model could not be downloaded (no network?): boom")

    with pytest.raises(demo_model.DemoModelError):
        demo_model.install(offline)
    assert "no network" in demo_model.install_problem()
    assert demo_model.installed_path() is None
    assert not any(demo_model.demo_dir().glob("*.gguf"))  # nothing half-fetched is left behind


def test_the_install_command_never_fails_make_run(hearth_home, monkeypatch, capsys):
    def offline(dest: Path, *args, **kwargs) -> Path:
        raise demo_model.DemoModelError("no network")

    monkeypatch.setattr(demo_model, "fetch_demo_file", offline)
    monkeypatch.setattr(demo_model.install, "__defaults__", (offline,))
    assert demo_model.main(["install"]) == 0
    assert "could not be installed" in capsys.readouterr().err
    assert demo_model.install_problem() == "no network"


def test_hearth_models_shows_the_demo_label_and_licence(smollm2, hearth_home, capsys):
    from app.cli import main

    demo_model.demo_dir().mkdir(parents=True)
    (demo_model.demo_dir() / demo_model.FILE_NAME).symlink_to(smollm2)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert demo_model.LABEL in out and "Apache-2.0" in out
    assert main(["models", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["demo"] is True and row["license"] == "Apache-2.0"


def test_a_removed_demo_model_is_not_installed_again(smollm2, hearth_home):
    fetched = []

    def fetch(dest: Path) -> Path:
        fetched.append(dest)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / demo_model.FILE_NAME).symlink_to(smollm2)
        return dest / demo_model.FILE_NAME

    demo_model.install(fetch)
    (demo_model.demo_dir() / demo_model.FILE_NAME).unlink()  # the user deletes it
    assert demo_model.was_removed()
    demo_model.install.__defaults__ = (fetch,)
    try:
        assert demo_model.main(["install"]) == 0
        assert len(fetched) == 1
        assert demo_model.main(["install", "--again"]) == 0
        assert len(fetched) == 2 and demo_model.installed_path() is not None
    finally:
        demo_model.install.__defaults__ = (demo_model.fetch_demo_file,)
