"""The same file in two places is one model listing both; only files that share a size are hashed."""

from __future__ import annotations

import os
import shutil

from app import paths
from app.library import file_hashes
from app.library.copies import find_local_copy, hash_and_merge, local_copies, merged
from app.library.file_hashes import HashCache
from app.library.library import scan_library
from tests.support.tiny_gguf import write_tiny_model


def _two_places(tiny_model, tmp_path):
    ours = paths.models_dir() / "imported" / "tiny.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copy(tiny_model, ours)
    theirs = tmp_path / "elsewhere" / "Tiny-Chat.gguf"
    theirs.parent.mkdir()
    shutil.copy(tiny_model, theirs)
    return ours, theirs


def test_two_copies_are_one_model_with_both_locations(tiny_model, tmp_path):
    ours, theirs = _two_places(tiny_model, tmp_path)
    other = write_tiny_model(tmp_path / "elsewhere" / "other.gguf", seed=3)
    result = merged(scan_library([str(tmp_path / "elsewhere")]))
    assert result.pending == []  # small files are hashed at once
    by_path = {m.path: m for m in result.models}
    assert set(by_path) == {ours, other}  # the first place found (Hearth's folder) names the row
    assert by_path[ours].locations == (ours, theirs) and by_path[other].copies == ()


def test_a_file_with_a_size_of_its_own_is_never_read(tiny_model, tmp_path, monkeypatch):
    write_tiny_model(tmp_path / "a" / "a.gguf", seed=1)
    write_tiny_model(tmp_path / "a" / "b.gguf", n_layers=3)
    reads = []
    real = file_hashes.sha256_of
    monkeypatch.setattr(file_hashes, "sha256_of", lambda p, c=file_hashes._never: reads.append(p) or real(p, c))
    result = merged(scan_library([str(tmp_path / "a")]))
    assert len(result.models) == 2 and reads == []


def test_large_candidates_are_left_for_the_background_then_merged(tiny_model, tmp_path):
    ours, theirs = _two_places(tiny_model, tmp_path)
    found = scan_library([str(tmp_path / "elsewhere")])
    first = merged(found, inline_limit=0)  # as if both were too large to hash during a scan
    assert len(first.models) == 2 and sorted(first.pending) == sorted([ours, theirs])
    again = hash_and_merge(found, first.pending)
    assert again.pending == [] and [m.locations for m in again.models] == [(ours, theirs)]
    assert merged(found, inline_limit=0).models == again.models  # the hashes stay in the index


def test_hard_links_are_one_model_and_read_once(tiny_model, tmp_path):
    ours = paths.models_dir() / "imported" / "tiny.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copy(tiny_model, ours)
    linked = tmp_path / "links" / "tiny.gguf"
    linked.parent.mkdir()
    os.link(ours, linked)
    result = merged(scan_library([str(linked.parent)]), inline_limit=0)
    assert [m.locations for m in result.models] == [(ours, linked)]
    assert result.pending == []  # two names of one file: nothing to read
    third = tmp_path / "links" / "copy.gguf"
    shutil.copy(tiny_model, third)
    result = merged(scan_library([str(linked.parent)]), inline_limit=0)
    assert sorted(result.pending) == sorted([ours, third])  # the hard link's other name is not read again
    hashed = hash_and_merge(scan_library([str(linked.parent)]), result.pending)
    assert hashed.models[0].locations == (ours, third, linked)


def test_a_hub_file_is_found_by_size_and_sha256(tiny_model, tmp_path):
    ours, _theirs = _two_places(tiny_model, tmp_path)
    models = merged(scan_library([])).models
    digest = file_hashes.sha256_of(tiny_model)
    size = tiny_model.stat().st_size
    with HashCache.open_default() as cache:
        assert find_local_copy([(size, digest)], models, cache).path == ours
        assert find_local_copy([(size, "0" * 64)], models, cache) is None
        assert find_local_copy([(size + 1, digest)], models, cache) is None
        assert find_local_copy([(size, "")], models, cache) is None  # no hash from the Hub: not claimed
    assert local_copies({"x.gguf": [(size, digest.upper())], "y.gguf": [(1, digest)]}, models) == {"x.gguf": str(ours)}
