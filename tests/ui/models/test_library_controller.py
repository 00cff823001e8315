"""The model list the GUI shows: the cached list first, a rescan off the GUI thread, opened models kept."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QThreadPool

from app import paths
from app.library.gguf_info import read_gguf_info
from app.ui.models.library_controller import LibraryController
from app.ui.tasks import BackgroundTasks
from tests.support.tiny_gguf import write_tiny_model


def test_a_scan_finds_models_and_a_rescan_sees_new_ones(qtbot, tiny_model, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(tiny_model, folder / "a.gguf")
    controller = LibraryController(BackgroundTasks(QThreadPool()), [str(folder)])
    firsts: list[bool] = []
    controller.first_scan_done.connect(firsts.append)
    with qtbot.waitSignal(controller.first_scan_done, timeout=10000):
        controller.refresh()
    assert [m.path.name for m in controller.models] == ["a.gguf"] and firsts == [True]
    write_tiny_model(folder / "b.gguf", seed=1)  # another model (a copy of a.gguf would share its row)
    with qtbot.waitSignal(controller.models_changed, timeout=10000) as changed:
        controller.refresh()
    assert sorted(m.path.name for m in changed.args[0]) == ["a.gguf", "b.gguf"]
    assert firsts == [True]  # the first scan is reported once


def test_an_opened_model_stays_in_the_list_after_a_rescan(qtbot, tiny_model, tmp_path):
    controller = LibraryController(BackgroundTasks(QThreadPool()), [])
    opened = controller.add_opened(str(tiny_model), read_gguf_info(tiny_model))
    with qtbot.waitSignal(controller.first_scan_done, timeout=10000) as first:
        controller.refresh()
    assert first.args == [True]
    assert [m.path for m in controller.models] == [opened.path]


def test_adding_a_folder_rescans_once_and_a_known_folder_is_not_added_twice(qtbot, tiny_model, tmp_path):
    dirs: list[str] = []
    controller = LibraryController(BackgroundTasks(QThreadPool()), dirs)
    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(tiny_model, folder / "c.gguf")
    with qtbot.waitSignal(controller.models_changed, timeout=10000):
        assert controller.add_folder(str(folder)) is True
    qtbot.waitUntil(lambda: not controller.scanning, timeout=10000)
    assert dirs == [str(folder)] and [m.path.name for m in controller.models] == ["c.gguf"]
    assert controller.add_folder(str(folder)) is False and dirs == [str(folder)]
    assert not paths.models_dir(create=False).joinpath("c.gguf").exists()  # scanned in place, not copied


def test_a_damaged_file_does_not_stop_the_scan(qtbot, smollm2, tiny_model, tmp_path):
    from tests.support.hostile_gguf import flip_vocabulary_length_bits

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(tiny_model, folder / "good.gguf")
    flip_vocabulary_length_bits(smollm2, folder / "damaged.gguf")  # two bits: the bos token runs off the file
    controller = LibraryController(BackgroundTasks(QThreadPool()), [str(folder)])
    failures: list[str] = []
    controller.scan_failed.connect(failures.append)
    with qtbot.waitSignal(controller.first_scan_done, timeout=10000) as first:
        controller.refresh()
    rows = {m.path.name: m for m in controller.models}
    assert first.args == [True] and failures == []
    assert rows["good.gguf"].info is not None
    assert rows["damaged.gguf"].info is None and "the GGUF header is damaged" in rows["damaged.gguf"].problem


def test_large_copies_show_at_once_and_merge_once_hashed_in_the_background(qtbot, tiny_model, tmp_path, monkeypatch):
    from app.library import copies

    monkeypatch.setattr(copies, "INLINE_HASH_LIMIT", 0)  # as if both files were many GB: never hashed by the scan
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(tiny_model, folder / "a.gguf")
    shutil.copy(tiny_model, folder / "b.gguf")
    controller = LibraryController(BackgroundTasks(QThreadPool()), [str(folder)])
    shown: list[list] = []
    controller.models_changed.connect(shown.append)
    with qtbot.waitSignal(controller.first_scan_done, timeout=10000):
        controller.refresh()
    assert [m.path.name for m in shown[-1]] == ["a.gguf", "b.gguf"]  # listed before any hashing
    qtbot.waitUntil(lambda: len(shown[-1]) == 1, timeout=10000)
    assert [p.name for p in shown[-1][0].locations] == ["a.gguf", "b.gguf"] and not controller.hashing
