"""SHA-256s remembered by path, size and mtime; free ones taken from the Hugging Face cache."""

from __future__ import annotations

import hashlib
import os

from app import paths
from app.library import file_hashes
from app.library.file_hashes import HashCache, hf_blob_sha256, remember_hashes


def test_a_hash_is_read_once_and_forgotten_when_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + b"x" * 1000)
    reads = []
    real = file_hashes.sha256_of
    monkeypatch.setattr(file_hashes, "sha256_of", lambda p, c=file_hashes._never: reads.append(p) or real(p, c))
    cache = HashCache(tmp_path / "index.sqlite3")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert cache.sha256(path) == expected and cache.sha256(path) == expected
    assert reads == [path]  # the second answer came from the index
    path.write_bytes(b"GGUF" + b"y" * 1000)
    os.utime(path, ns=(1, 1))
    assert cache.known(path) == ""  # changed size or mtime: not trusted
    assert HashCache(tmp_path / "index.sqlite3").sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_hugging_face_cache_file_is_known_by_its_blob_name(tmp_path):
    digest = "ab" * 32
    blob = tmp_path / "models--org--repo" / "blobs" / digest
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"not hashed")
    link = tmp_path / "models--org--repo" / "snapshots" / "c0ffee" / "m.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(blob)
    assert hf_blob_sha256(link) == digest and HashCache().known(link) == digest
    assert hf_blob_sha256(blob) == ""  # only a cache link says it


def test_a_verified_download_hash_is_remembered_in_the_library_index(tmp_path):
    paths.models_dir()  # the data folder exists once anything was downloaded
    path = tmp_path / "m.gguf"
    path.write_bytes(b"bytes")
    remember_hashes([(path, "CD" * 32), (path.with_name("other"), "not a hash")])
    with HashCache.open_default() as cache:
        assert cache.known(path) == "cd" * 32
