"""The library index: rescans read only new or changed files; gone files drop out; it survives two writers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from app import paths
from app.library import library
from app.library.index import LibraryIndex, signature
from tests.library.test_gguf_reader import HOSTILE


def _count_reads(monkeypatch) -> list:
    reads: list = []
    real = library.read_info_uncached

    def counting(path, deadline=None):
        reads.append(path.name)
        return real(path, deadline)

    monkeypatch.setattr(library, "read_info_uncached", counting)
    return reads


def test_a_rescan_reads_only_new_or_changed_files(tiny_model, scripted_model, monkeypatch):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    shutil.copy(tiny_model, folder / "a.gguf")
    shutil.copy(scripted_model, folder / "b.gguf")
    reads = _count_reads(monkeypatch)
    first = library.scan_library()
    assert sorted(reads) == ["a.gguf", "b.gguf"] and all(m.info for m in first)
    reads.clear()
    again = library.scan_library()
    assert reads == [] and [m.info for m in again] == [m.info for m in first]
    shutil.copy(tiny_model, folder / "b.gguf")  # changed (size and mtime)
    os.utime(folder / "b.gguf", ns=(1, 1))
    library.scan_library()
    assert reads == ["b.gguf"]


def test_gone_files_drop_out_and_the_last_list_is_kept_between_runs(tiny_model):
    target = paths.models_dir() / "pub" / "a.gguf"
    target.parent.mkdir(parents=True)
    shutil.copy(tiny_model, target)
    library.scan_library()
    cached = library.cached_library()
    assert [m.path for m in cached] == [target] and cached[0].info.architecture == "llama"
    target.unlink()
    assert library.scan_library() == [] and library.cached_library() == []


def test_a_hostile_file_is_listed_unreadable_beside_a_good_one(tiny_model, monkeypatch):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    shutil.copy(tiny_model, folder / "good.gguf")
    (folder / "hostile.gguf").write_bytes(HOSTILE["huge_array"])
    reads = _count_reads(monkeypatch)
    models = {m.path.name: m for m in library.scan_library()}
    assert models["good.gguf"].info is not None
    assert models["hostile.gguf"].info is None and "damaged" in models["hostile.gguf"].problem
    reads.clear()
    library.scan_library()
    assert reads == []  # the broken file is remembered too


def test_one_slow_file_cannot_stall_a_scan_and_its_timeout_is_remembered_until_it_changes(tiny_model, monkeypatch):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    shutil.copy(tiny_model, folder / "a.gguf")
    shutil.copy(tiny_model, folder / "slow.gguf")
    real = library.read_info_uncached

    def slow_for_one(path, deadline=None):
        if path.name == "slow.gguf":
            from app.library.gguf_info import GGUFFileError

            raise GGUFFileError("timeout", "took too long")
        return real(path, deadline)

    monkeypatch.setattr(library, "read_info_uncached", slow_for_one)
    progress = []
    models = {m.path.name: m for m in library.scan_library(on_progress=lambda d, t: progress.append((d, t)))}
    assert models["a.gguf"].info is not None
    assert models["slow.gguf"].info is None and "took more than" in models["slow.gguf"].problem
    assert progress == [(1, 2), (2, 2)]
    monkeypatch.setattr(library, "read_info_uncached", real)
    reads = _count_reads(monkeypatch)
    again = {m.path.name: m for m in library.scan_library()}
    assert reads == [] and "took more than" in again["slow.gguf"].problem  # the rescan does not pay the deadline
    os.utime(folder / "slow.gguf", ns=(1, 1))  # a changed file is read again
    assert {m.path.name: m for m in library.scan_library()}["slow.gguf"].info is not None
    assert reads == ["slow.gguf"]


def test_a_pipe_named_gguf_is_listed_not_read(tiny_model):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    shutil.copy(tiny_model, folder / "good.gguf")
    os.mkfifo(folder / "pipe.gguf")  # opening it for reading would wait for a writer forever
    models = {m.path.name: m for m in library.scan_library()}
    assert models["good.gguf"].info is not None
    assert models["pipe.gguf"].info is None and "not a regular file" in models["pipe.gguf"].problem


def test_a_file_without_weights_is_not_offered_as_a_model(tmp_path, tiny_model):
    import struct

    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    arch = b"general.architecture"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(arch)) + arch
    (folder / "vocab.gguf").write_bytes(header + struct.pack("<IQ", 8, 5) + b"llama" + b"\0" * 32)
    [model] = library.scan_library()
    assert model.info is None and "no weights" in model.problem


def test_an_unwritable_index_still_scans(tiny_model, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    index = LibraryIndex(tmp_path / "a-file" / "library-index.sqlite3")
    assert not index.persistent
    sig = signature(tiny_model)
    index.store(tiny_model, "folder", sig, None, "x")
    assert index.lookup(tiny_model, sig) == (None, "x")


def test_two_processes_scanning_at_once_leave_a_sound_index(tiny_model, scripted_model, hearth_home):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    for i in range(6):
        shutil.copy(tiny_model if i % 2 else scripted_model, folder / f"m{i}.gguf")
    code = "from app.library.library import scan_library\nfor _ in range(5): assert len(scan_library()) == 6\n"
    env = {**os.environ, "HEARTH_HOME": str(hearth_home)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert len(library.cached_library()) == 6
