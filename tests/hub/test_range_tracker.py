"""The bookkeeping of a parallel download: ranges handed out, bytes done, and when the record may say so."""

from __future__ import annotations

import time

from app.hub import download_checkpoint
from app.hub.download_checkpoint import Checkpoints
from app.hub.download_ranges import RangeTracker, gaps, merged


def test_ranges_are_handed_out_lowest_first_and_never_twice():
    tracker = RangeTracker(250, 100, done=[(100, 150)])
    assert [tracker.claim(), tracker.claim(), tracker.claim(), tracker.claim()] == [(0, 100), (150, 250), None, None]
    tracker.complete(0, 40)  # a connection stopped after 40 bytes and gives its range back
    tracker.release((0, 100))
    assert tracker.claim() == (40, 100)
    assert tracker.prefix() == 40 and tracker.missing() == 250 - 40 - 50


def test_done_bytes_merge_and_a_record_never_claims_past_the_end():
    assert merged([(5, 9), (0, 5), (20, 30), (25, 26), (40, 40)]) == [(0, 9), (20, 30)]
    assert gaps([(0, 9), (20, 30)], 35) == [(9, 20), (30, 35)]
    tracker = RangeTracker(100, 10, done=[(90, 500), (-5, 10)])
    assert tracker.done() == [(0, 10), (90, 100)] and tracker.prefix() == 10


def test_the_record_is_saved_only_after_the_bytes_it_lists_are_synced(tmp_path, monkeypatch):
    events: list[object] = []
    tracker = RangeTracker(100, 10)
    tracker.complete(0, 30)
    monkeypatch.setattr(download_checkpoint, "sync_to_disk", lambda path: events.append("sync"))
    checkpoints = Checkpoints(tmp_path / "x.part", tracker, lambda done: events.append(done), every=0.01).start()
    while len(events) < 4:
        tracker.complete(30, 60)
        time.sleep(0.005)
    checkpoints.finish(final=True, wait=1.0)
    count = len(events)
    assert events[0] == "sync" and all(events[i] == "sync" for i in range(0, count, 2))
    assert all(isinstance(events[i], list) for i in range(1, count, 2))
    tracker.complete(60, 100)
    checkpoints._once()  # a pass that was still under way when the download finished saves nothing
    assert events[count:] == ["sync"]


def test_the_number_of_connections_can_be_set_for_networks_that_refuse_several(monkeypatch):
    from app.hub.download import CONNECTIONS, default_connections

    assert default_connections() == CONNECTIONS
    monkeypatch.setenv("HEARTH_DOWNLOAD_CONNECTIONS", "1")
    assert default_connections() == 1
    monkeypatch.setenv("HEARTH_DOWNLOAD_CONNECTIONS", "999")
    assert default_connections() == 16
    monkeypatch.setenv("HEARTH_DOWNLOAD_CONNECTIONS", "many")
    assert default_connections() == CONNECTIONS
