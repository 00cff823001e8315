"""Downloads from the local Hub server: resume, verify, refuse, explain."""

from __future__ import annotations

import threading

import pytest

from app import paths
from app.hub.download import Downloader
from app.hub.download_record import DownloadRecord, saved_downloads
from app.hub.errors import HubError
from app.hub.quant import GGUFChoice, HubFile
from app.hub.search import list_gguf_files
from app.library.library import scan_library
from tests.hub.conftest import REPO, run_in_thread


def choice(name: str) -> GGUFChoice:
    return next(c for c in list_gguf_files(REPO) if c.name == name)


def downloader(name: str, **kw) -> Downloader:
    return Downloader(DownloadRecord.for_choice(REPO, choice(name)), retry_backoff=0.01, **kw)


def test_full_download_lands_in_models_folder_and_library(fake_hub):
    seen = []
    path = downloader("tiny-chat.Q8_0.gguf").run(seen.append)
    assert path == paths.models_dir() / "hearth-test" / "Tiny-Chat-GGUF" / "tiny-chat.Q8_0.gguf"
    assert path.read_bytes() == fake_hub.repos[REPO].files["tiny-chat.Q8_0.gguf"]
    assert seen and seen[-1].done_bytes == seen[-1].total_bytes == path.stat().st_size
    assert not list(path.parent.glob("*.part"))
    library = scan_library()
    assert [m.path for m in library] == [path]
    assert library[0].info.architecture == "llama"
    assert saved_downloads() == []


def test_dropped_connection_is_resumed_with_a_range_request(fake_hub):
    fake_hub.drop_after("tiny-chat.Q8_0.gguf", 100_000)
    path = downloader("tiny-chat.Q8_0.gguf").run()
    assert path.read_bytes() == fake_hub.repos[REPO].files["tiny-chat.Q8_0.gguf"]
    last = path.stat().st_size - 1  # one range: the file is smaller than a range
    assert fake_hub.ranges_seen("tiny-chat.Q8_0.gguf") == [f"bytes=0-{last}", f"bytes=100000-{last}"]


def test_pause_then_resume_after_restart_fetches_only_missing_bytes(fake_hub):
    first = downloader("tiny-chat.Q8_0.gguf")

    def pause_midway(progress):
        first.pause()  # the user pauses as soon as the first bytes show

    fake_hub.drop_after("tiny-chat.Q8_0.gguf", 100_000)  # a slow link: only part has arrived
    with pytest.raises(HubError) as caught:
        first.run(pause_midway)
    assert caught.value.kind == "paused"
    # "restart": the saved record is all that is left
    [record] = saved_downloads()
    assert record.status == "paused"
    [[start, have]] = record.parts[0]["done"]
    assert start == 0 and 0 < have < record.total_bytes
    path = Downloader(record, retry_backoff=0.01).run()
    assert path.read_bytes() == fake_hub.repos[REPO].files["tiny-chat.Q8_0.gguf"]
    assert fake_hub.ranges_seen("tiny-chat.Q8_0.gguf")[-1] == f"bytes={have}-{record.total_bytes - 1}"


def test_cancel_removes_the_partial_file(fake_hub):
    d = downloader("tiny-chat.Q8_0.gguf")
    d.cancel()
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == "cancelled"
    assert not list(d.folder.glob("*.part")) and saved_downloads() == []


def test_hash_mismatch_is_rejected_and_never_shows_up(fake_hub):
    fake_hub.corrupt("tiny-chat.Q8_0.gguf")
    d = downloader("tiny-chat.Q8_0.gguf")
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == "corrupt" and "SHA-256" in caught.value.message
    assert not d.targets[0].exists() and not list(d.folder.glob("*.part"))
    assert scan_library() == []
    assert saved_downloads()[0].status == "failed"


def test_split_model_downloads_as_one(fake_hub):
    split = next(c for c in list_gguf_files(REPO) if len(c.parts) > 1)
    d = Downloader(DownloadRecord.for_choice(REPO, split), retry_backoff=0.01)
    first = d.run()
    assert "-00001-of-" in first.name
    assert all(t.exists() for t in d.targets)
    [model] = scan_library()
    assert model.path == first and len(model.info.shard_paths) == len(split.parts)


def test_file_names_that_escape_the_folder_are_refused(fake_hub):
    evil = GGUFChoice("../../evil.gguf", "Q4_0", (HubFile("../../evil.gguf", 10, ""),))
    with pytest.raises(HubError) as caught:
        Downloader(DownloadRecord.for_choice(REPO, evil))
    assert caught.value.kind == "unsafe"
    with pytest.raises(HubError):
        Downloader(DownloadRecord.for_choice("../x", choice("tiny-chat.Q8_0.gguf")))


@pytest.mark.parametrize("status, kind", [(401, "auth"), (403, "gated"), (404, "not_found")])
def test_download_errors_are_explained(fake_hub, status, kind):
    d = downloader("tiny-chat.Q8_0.gguf")
    fake_hub.fail(status, times=10, path_contains="/resolve/")
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == kind
    assert saved_downloads()[0].error == caught.value.message


def test_rate_limit_and_server_errors_are_retried(fake_hub):
    d = downloader("tiny-chat.Q8_0.gguf")
    fake_hub.fail(429, times=1, path_contains="/resolve/", retry_after=0)
    fake_hub.fail(503, times=2, path_contains="/resolve/")
    assert d.run().exists()
    d2 = downloader("tiny-chat.F16.gguf")
    fake_hub.fail(500, times=50, path_contains="/resolve/")
    with pytest.raises(HubError) as caught:
        d2.run()
    assert caught.value.kind == "server" and "server error" in caught.value.message


def test_not_enough_disk_space_is_checked_first(fake_hub, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 1000, 1000))
    d = downloader("tiny-chat.Q8_0.gguf")
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == "disk" and "free" in caught.value.message
    assert not any(r.path.endswith("tiny-chat.Q8_0.gguf") and r.method == "GET" for r in fake_hub.requests)


def test_network_gone_mid_download_keeps_the_partial(fake_hub):
    d = downloader("tiny-chat.Q8_0.gguf")
    fake_hub.drop_after("tiny-chat.Q8_0.gguf", 50_000)
    fake_hub.fail(404, path_contains="/nothing/")  # keep the fault list non-empty
    stopped = threading.Event()

    def network_gone(progress):
        if not stopped.is_set():
            stopped.set()
            fake_hub.stop()  # from now on every connection is refused

    with pytest.raises(HubError) as caught:
        d.run(network_gone)
    assert caught.value.kind == "network"
    assert d.targets[0].with_name("tiny-chat.Q8_0.gguf.part").exists()
    assert saved_downloads()[0].parts[0]["done"] == [[0, 50_000]]


def test_token_is_stored_like_huggingface_hub_and_opens_gated_repos(fake_hub, caplog):
    from huggingface_hub import get_token

    from app.hub.auth import forget_token, save_token

    fake_hub.gated.add(REPO)
    with pytest.raises(HubError) as caught:
        downloader("tiny-chat.Q8_0.gguf").run()
    assert caught.value.kind == "auth"
    with pytest.raises(HubError) as bad:
        save_token("hf_wrong")
    assert bad.value.kind == "auth" and "hf_wrong" not in bad.value.message
    assert save_token(fake_hub.valid_token) == "hearth-tester"
    assert get_token() == fake_hub.valid_token
    assert downloader("tiny-chat.Q8_0.gguf").run().exists()
    assert fake_hub.valid_token not in caplog.text
    forget_token()
    assert get_token() is None


def test_a_body_longer_than_listed_is_refused_and_never_written_past_the_size(fake_hub):
    name = "tiny-chat.Q8_0.gguf"
    size = len(fake_hub.repos[REPO].files[name])
    fake_hub.endless(name)
    d = downloader(name)
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == "corrupt" and "sent more than" in caught.value.message
    partial = d.targets[0].with_name(name + ".part")
    assert not partial.exists() or partial.stat().st_size <= size


def test_an_oversized_partial_file_is_discarded_on_the_next_run(fake_hub):
    name = "tiny-chat.Q8_0.gguf"
    d = downloader(name)
    partial = d.targets[0].with_name(name + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"x" * (len(fake_hub.repos[REPO].files[name]) + 4096))
    assert d.run().read_bytes() == fake_hub.repos[REPO].files[name]
    assert not partial.exists()


def test_a_full_disk_mid_download_is_one_plain_error_even_when_the_state_cannot_be_saved(fake_hub, monkeypatch):
    import errno

    from app.hub import download_sink

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download_sink.Sink, "_write", no_space)
    d = downloader("tiny-chat.Q8_0.gguf")
    saves = []

    def save_then_fail(record=d.record):
        saves.append(record.status)
        if len(saves) > 1:
            no_space()

    monkeypatch.setattr(d.record, "save", save_then_fail)
    with pytest.raises(HubError) as caught:
        d.run()
    assert caught.value.kind == "disk"
    assert caught.value.message.startswith("the disk is full")
    assert "could not be saved either: the disk is full" in caught.value.message


def test_retry_after_is_capped_and_counted_down(fake_hub):
    fake_hub.fail(429, times=1, path_contains="/resolve/", retry_after=100000)
    seen = []
    d = downloader("tiny-chat.Q8_0.gguf", max_retry_after=0.3)
    assert d.run(seen.append).exists()
    waits = [p.waiting_s for p in seen if p.waiting_s > 0]
    assert waits and max(waits) <= 0.3


def test_pause_ends_a_request_whose_server_never_sends_headers(fake_hub):
    name = "tiny-chat.Q8_0.gguf"
    job = downloader(name)
    fake_hub.silent(name)
    thread, errors = run_in_thread(job)
    while not fake_hub.ranges_seen(name) and thread.is_alive():
        threading.Event().wait(0.01)  # until the request has reached the server
    job.pause()
    thread.join(1.0)  # not the 30 s socket timeout
    assert not thread.is_alive()
    assert errors[0].kind == "paused"
    assert [r.status for r in saved_downloads()] == ["paused"]


def test_body_bytes_that_came_with_the_headers_are_read_without_waiting_for_more(fake_hub):
    from app.hub.http_fetch import fetch

    name = "tiny-chat.Q8_0.gguf"
    fake_hub.stall(name, after_bytes=4096)  # headers and 4 KiB, then silence
    with fetch(f"{fake_hub.url}/{REPO}/resolve/main/{name}", {"Accept-Encoding": "identity"}) as response:
        response.connection.sock.settimeout(2.0)  # a wait for more would raise TimeoutError
        got = 0
        while got < 4096:
            got += response.readinto(memoryview(bytearray(1 << 16)))
    assert got == 4096


def test_the_finished_file_is_on_the_disk_before_its_name_says_complete(fake_hub, monkeypatch):
    import errno

    from app.hub import download as download_module

    events = []
    real_sync = download_module.sync_to_disk
    monkeypatch.setattr(download_module, "sync_to_disk",
                        lambda path: (events.append(("data", path.name)), real_sync(path)))
    monkeypatch.setattr(download_module, "sync_folder",
                        lambda folder: events.append(("folder", sorted(p.name for p in folder.iterdir()))))
    path = downloader("tiny-chat.Q8_0.gguf").run()
    assert events[-2] == ("data", path.name + ".part")  # synced under its partial name
    assert events[-1] == ("folder", [path.name])  # then the rename itself is synced

    path.unlink()
    monkeypatch.setattr(download_module, "sync_to_disk",
                        lambda path: (_ for _ in ()).throw(OSError(errno.EIO, "Input/output error")))
    with pytest.raises(HubError) as caught:
        downloader("tiny-chat.Q8_0.gguf").run()
    assert caught.value.kind == "disk"
    assert "could not finish tiny-chat.Q8_0.gguf" in caught.value.message
    assert not path.exists()  # never under the complete name
