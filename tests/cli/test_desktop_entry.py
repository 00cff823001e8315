"""`hearth desktop-entry`: the application menu starts this very program, wherever it was put."""

from __future__ import annotations

from pathlib import Path

from app.cli import desktop
from app.cli.entry import main


def test_the_entry_starts_this_program_and_the_icon_goes_beside_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    program = tmp_path / "My Apps" / "Hearth-x86_64"
    monkeypatch.setattr(desktop, "this_program", lambda: program)
    assert main(["desktop-entry"]) == 0
    entry = (tmp_path / "share" / "applications" / "hearth.desktop").read_text()
    assert f'Exec="{program}"' in entry.splitlines()
    assert "Name=Hearth" in entry and "Icon=hearth" in entry and "Type=Application" in entry
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "hearth.svg"
    assert icon.read_bytes() == (Path(desktop.__file__).parents[2] / "resources" / "hearth.svg").read_bytes()
    assert "added Hearth to the application menu" in capsys.readouterr().out

    assert main(["desktop-entry", "--remove"]) == 0
    assert not icon.exists() and not (tmp_path / "share" / "applications" / "hearth.desktop").exists()
    assert main(["desktop-entry", "--remove"]) == 0  # nothing left to remove is fine


def test_exec_values_are_quoted_as_the_desktop_entry_spec_says():
    assert desktop.exec_value(Path("/opt/Hearth-x86_64")) == "/opt/Hearth-x86_64"
    assert desktop.exec_value(Path("/home/a b/Hearth")) == '"/home/a b/Hearth"'
    # inside quotes $ gets a backslash, and the key's string escaping doubles every backslash
    assert desktop.exec_value(Path("/x/$y")) == '"/x/\\\\$y"'
