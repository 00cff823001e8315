"""The icon and the starter catalog are found in a source checkout and in an installed wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from app.bundled import PACKAGES, SOURCE_ROOT, bundled_file
from app.hub.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent


def test_a_source_checkout_finds_the_icon_and_the_catalog():
    assert bundled_file("resources", "hearth.svg") == ROOT / "resources" / "hearth.svg"
    assert bundled_file("models", "catalog.json") == ROOT / "models" / "catalog.json"
    assert load_catalog(), "the starter catalog is empty or unreadable"
    assert bundled_file("resources", "missing.svg") is None


def test_the_wheel_carries_every_package_and_both_data_folders():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "app").rglob("__init__.py")}
    missing = sorted(on_disk - set(config["packages"]))
    assert not missing, f"add to pyproject's packages: {missing}"
    for folder, package in PACKAGES.items():
        assert package in config["packages"]
        assert config["package-dir"][package] == folder


def test_an_installed_layout_reads_its_own_copies(tmp_path):
    """Lay the package out as the wheel does (data folders inside `app/`), away from the checkout."""
    site = tmp_path / "site"
    shutil.copytree(SOURCE_ROOT / "app", site / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for folder, package in PACKAGES.items():
        shutil.copytree(ROOT / folder, site / Path(*package.split(".")))
    script = ("from app.bundled import bundled_file; from app.hub.catalog import load_catalog; "
              "print(bundled_file('resources', 'hearth.svg')); print(len(load_catalog()))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert out[0] == str(site / "app" / "bundled_resources" / "hearth.svg")
    assert int(out[1]) == len(load_catalog()) > 0
