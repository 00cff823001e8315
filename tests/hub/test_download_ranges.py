"""Downloads over several connections, from the local Hub server: ranges, resume, crashes, verification.

The test file is about 545 KiB; a 128 KiB range size cuts it into five ranges."""

from __future__ import annotations

import json
import time

import pytest

from app import paths
from app.hub.download import Downloader
from app.hub.download_record import DownloadRecord, saved_downloads
from app.hub.errors import HubError
from app.hub.search import list_gguf_files
from app.library.library import scan_library
from tests.hub.conftest import REPO, wait_until

NAME = "tiny-chat.Q8_0.gguf"
RANGE = 128 << 10


def record() -> DownloadRecord:
    return DownloadRecord.for_choice(REPO, next(c for c in list_gguf_files(REPO) if c.name == NAME))


def downloader(rec: DownloadRecord | None = None, connections: int = 4) -> Downloader:
    return Downloader(rec or record(), retry_backoff=0.01, connections=connections, range_size=RANGE,
                      checkpoint_seconds=0.05)


def ranges(size: int, start: int = 0) -> list[str]:
    """The Range headers of fetching [start, size) in RANGE pieces."""
    return [f"bytes={a}-{min(a + RANGE, size) - 1}" for a in range(start, size, RANGE)]


def test_a_multi_range_download_equals_the_file_and_reports_progress_across_ranges(fake_hub):
    data = fake_hub.repos[REPO].files[NAME]
    seen = []
    path = downloader().run(seen.append)
    assert path.read_bytes() == data
    assert sorted(fake_hub.ranges_seen(NAME)) == sorted(ranges(len(data)))  # each range once
    done = [p.done_bytes for p in seen]
    assert done == sorted(done) and done[-1] == seen[-1].total_bytes == len(data)
    assert saved_downloads() == [] and not list(path.parent.glob("*.part"))


def test_a_connection_dropped_mid_range_asks_again_for_the_rest_of_that_range_only(fake_hub):
    data = fake_hub.repos[REPO].files[NAME]
    fake_hub.drop_after(NAME, 10_000, range_from=RANGE)
    assert downloader().run().read_bytes() == data
    again = f"bytes={RANGE + 10_000}-{2 * RANGE - 1}"
    assert sorted(fake_hub.ranges_seen(NAME)) == sorted(ranges(len(data)) + [again])


def test_pause_stops_every_connection_promptly_and_resume_fetches_only_the_missing_bytes(fake_hub, running):
    data = fake_hub.repos[REPO].files[NAME]
    stalled = 2 * RANGE
    fake_hub.stall(NAME, after_bytes=1000, times=1, range_from=stalled)  # one range hangs after 1000 bytes
    first = downloader()
    thread, errors = running(first)
    done_so_far = [(0, stalled), (stalled + RANGE, len(data))]
    wait_until(lambda: first._tracker is not None and first._tracker.done() == done_so_far)
    t = time.monotonic()
    first.pause()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - t < 1.0
    assert errors[0].kind == "paused"
    [saved] = saved_downloads()  # what a restart finds
    # the 1000 bytes that came before the stall were written when the connection stopped
    assert saved.status == "paused" and saved.parts[0]["done"] == [[0, stalled + 1000], [stalled + RANGE, len(data)]]
    asked_before = len(fake_hub.ranges_seen(NAME))
    assert downloader(saved).run().read_bytes() == data
    assert fake_hub.ranges_seen(NAME)[asked_before:] == [f"bytes={stalled + 1000}-{stalled + RANGE - 1}"]


def test_a_corrupted_range_fails_verification_and_nothing_is_left_marked_done(fake_hub):
    fake_hub.corrupt(NAME, at=3 * RANGE + 5)
    d = downloader()
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == "corrupt"
    assert caught.value.message == (f"{NAME} does not match the Hub's SHA-256: the file is damaged; "
                                     "it was removed, download it again")
    assert not d.targets[0].exists() and not list(d.folder.glob("*.part"))
    [saved] = saved_downloads()
    assert saved.status == "failed" and saved.parts[0]["done"] == []
    assert scan_library() == []


def test_a_crash_leaves_a_record_and_a_part_file_and_a_new_download_fetches_only_what_is_missing(fake_hub):
    data = fake_hub.repos[REPO].files[NAME]
    crashed = record()
    crashed.parts[0]["done"] = [[0, RANGE], [2 * RANGE, 3 * RANGE]]
    crashed.status = "downloading"  # the process died while downloading
    crashed.save()
    partial = downloader(crashed).targets[0].with_name(NAME + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    junk = bytearray(b"\xAA" * len(data))  # bytes never marked done are not trusted, whatever they hold
    junk[0:RANGE] = data[0:RANGE]
    junk[2 * RANGE:3 * RANGE] = data[2 * RANGE:3 * RANGE]
    partial.write_bytes(bytes(junk))
    # the user presses Download again: a fresh record takes over the saved one's ranges
    again = downloader(record())
    assert again.missing_bytes() == len(data) - 2 * RANGE
    assert again.run().read_bytes() == data
    assert sorted(fake_hub.ranges_seen(NAME)) == sorted(
        [f"bytes={RANGE}-{2 * RANGE - 1}"] + ranges(len(data), 3 * RANGE))


def test_a_record_from_the_single_stream_version_resumes_from_its_part_files_length(fake_hub):
    data = fake_hub.repos[REPO].files[NAME]
    old = record()
    old.status = "paused"
    key = old.key
    folder = paths.downloads_state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    saved = {"repo_id": REPO, "name": NAME, "quant": old.quant, "revision": "main", "status": "paused",
             "error": "", "local_path": "", "created": 0.0,
             "parts": [{"path": NAME, "size": len(data), "sha256": old.parts[0]["sha256"]}]}  # no "done"
    (folder / f"{key}.json").write_text(json.dumps(saved), encoding="utf-8")
    d = downloader(saved_downloads()[0])
    partial = d.targets[0].with_name(NAME + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(data[:200_000])  # the old version appended in order: its length was its progress
    assert d.missing_bytes() == len(data) - 200_000
    assert d.run().read_bytes() == data
    # the missing bytes, cut into ranges from where the old file ended
    assert sorted(fake_hub.ranges_seen(NAME)) == sorted(
        [f"bytes=200000-{200_000 + RANGE - 1}", f"bytes={200_000 + RANGE}-{200_000 + 2 * RANGE - 1}",
         f"bytes={200_000 + 2 * RANGE}-{len(data) - 1}"])


def test_cancel_during_a_multi_range_download_removes_everything(fake_hub, running):
    fake_hub.stall(NAME, after_bytes=1000, range_from=RANGE)
    d = downloader()
    thread, errors = running(d)
    wait_until(lambda: d._tracker is not None and d._tracker.missing() < d._tracker.size - RANGE)
    d.cancel()
    thread.join(5)
    assert not thread.is_alive() and errors[0].kind == "cancelled"
    assert not list(d.folder.glob("*.part")) and saved_downloads() == []
