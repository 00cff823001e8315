"""A download's bytes start their way to the disk as soon as they are hashed, so the final sync is short."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest

from app.hub import download_hash, download_sink
from app.hub.download_hash import PrefixHasher
from app.hub.download_ranges import RangeTracker
from app.hub.download_sink import start_write_back


def test_every_hashed_byte_is_handed_to_the_disk_once_in_file_order(tmp_path, monkeypatch):
    data = os.urandom(10_000)
    path = tmp_path / "model.gguf.part"
    path.write_bytes(data)
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(download_hash, "BLOCK", 1024)
    monkeypatch.setattr(download_hash, "start_write_back", lambda fd, offset, length: started.append((offset, length)))
    tracker = RangeTracker(len(data), 4096)
    hasher = PrefixHasher(path, tracker, lambda: False).start()
    tracker.complete(4096, 10_000)  # the later range lands first: nothing past the prefix is hashed yet
    tracker.complete(0, 4096)
    assert hasher.result() == hashlib.sha256(data).hexdigest()
    at = 0
    for offset, length in started:
        assert offset == at and 0 < length <= 1024
        at += length
    assert at == len(data)


def test_the_hint_is_only_a_hint(tmp_path):
    path = tmp_path / "x.part"
    path.write_bytes(b"\1" * 65536)
    fd = os.open(path, os.O_RDONLY)  # the hasher's descriptor is read-only, and that is enough
    try:
        start_write_back(fd, 0, 65536)
        start_write_back(fd, 0, 0)
        if sys.platform.startswith("linux"):
            assert download_sink._sync_file_range()(fd, 0, 65536, download_sink._SYNC_FILE_RANGE_WRITE) == 0
    finally:
        os.close(fd)
    start_write_back(-1, 0, 4096)  # no such descriptor: the call fails, nothing raises, the final sync does it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")
def test_linux_really_gets_the_call():
    assert download_sink._sync_file_range() is not None
