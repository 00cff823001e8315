"""Import copies (hashing as it goes), moves, or links; a clash or a bad file loses nothing."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from app.library.file_hashes import HashCache
from app.library.gguf_info import GGUFFileError
from app.library.model_import import (
    ImportMethod,
    ModelImportError,
    default_method,
    import_folder,
    import_model,
    in_hearth_folder,
    remove_from_hearth,
)


def _source(tiny_model, tmp_path):
    source = tmp_path / "Downloads" / "Tiny.gguf"
    source.parent.mkdir()
    shutil.copy(tiny_model, source)
    return source


def test_copy_keeps_the_original_and_remembers_the_hash_it_computed(tiny_model, tmp_path):
    source = _source(tiny_model, tmp_path)
    target = import_model(source, ImportMethod.COPY)
    assert target == import_folder() / "Tiny.gguf" and source.exists()
    assert target.read_bytes() == source.read_bytes() and target.stat().st_ino != source.stat().st_ino
    with HashCache.open_default() as cache:
        assert cache.known(target) == hashlib.sha256(source.read_bytes()).hexdigest()
    assert not list(import_folder().glob("*.part"))


def test_move_takes_the_file_and_link_shares_it(tiny_model, tmp_path):
    moved_from = _source(tiny_model, tmp_path)
    data = moved_from.read_bytes()
    moved = import_model(moved_from, ImportMethod.MOVE)
    assert not moved_from.exists() and moved.read_bytes() == data
    linked_from = tmp_path / "Linked.gguf"
    shutil.copy(tiny_model, linked_from)
    linked = import_model(linked_from, ImportMethod.LINK)
    assert linked.stat().st_ino == linked_from.stat().st_ino  # a hard link: no second copy on disk


def test_link_is_the_default_on_the_same_disk(tiny_model, tmp_path):
    assert default_method(_source(tiny_model, tmp_path)) == ImportMethod.LINK


def test_a_name_already_taken_is_refused_and_nothing_changes(tiny_model, tmp_path):
    source = _source(tiny_model, tmp_path)
    taken = import_folder() / "Tiny.gguf"
    taken.write_bytes(b"someone else's")
    with pytest.raises(ModelImportError, match=r"already has a file named Tiny\.gguf"):
        import_model(source, ImportMethod.MOVE)
    assert source.exists() and taken.read_bytes() == b"someone else's"


def test_a_file_that_is_not_a_whole_gguf_is_refused(broken_models):
    with pytest.raises(GGUFFileError):
        import_model(broken_models["truncated"], ImportMethod.COPY)
    assert not list(import_folder().iterdir())


def test_a_link_that_cannot_be_hard_points_at_the_file_and_removing_it_keeps_the_file(tiny_model, tmp_path,
                                                                                      monkeypatch):
    source = _source(tiny_model, tmp_path)

    def no_hard_links(*_args):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_hard_links)
    linked = import_model(source, ImportMethod.LINK)
    assert linked.is_symlink() and linked.resolve() == source.resolve()
    assert in_hearth_folder(linked) and not in_hearth_folder(source)
    remove_from_hearth(linked)
    assert not linked.is_symlink() and source.exists()
