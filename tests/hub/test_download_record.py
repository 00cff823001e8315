import json

import pytest

from app import paths
from app.hub.download_record import DownloadRecord, DownloadStatus, saved_downloads
from app.hub.errors import HubError, HubErrorKind


def _record(name: str = "m-Q4_K_M.gguf") -> DownloadRecord:
    return DownloadRecord("org/repo-GGUF", name, "Q4_K_M", [{"path": name, "size": 10, "sha256": "0" * 64}])


def test_a_saved_record_reads_back_with_its_status_as_an_enum(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path))
    record = _record()
    record.status = DownloadStatus.PAUSED
    record.save()
    saved = json.loads((paths.downloads_state_dir() / f"{record.key}.json").read_text(encoding="utf-8"))
    assert saved["status"] == "paused"  # plain text on disk: records from older versions read the same
    [back] = saved_downloads()
    assert back.status is DownloadStatus.PAUSED
    assert back.total_bytes == 10


def test_finished_unreadable_and_unknown_status_records_are_left_out(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path))
    done = _record("done.gguf")
    done.status = DownloadStatus.DONE
    done.save()
    folder = paths.downloads_state_dir()
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    odd = _record("odd.gguf")
    odd.save()
    data = json.loads((folder / f"{odd.key}.json").read_text(encoding="utf-8"))
    data["status"] = "exploded"
    (folder / f"{odd.key}.json").write_text(json.dumps(data), encoding="utf-8")
    assert saved_downloads() == []


def test_hub_errors_carry_a_kind_enum_and_refuse_unknown_kinds():
    error = HubError("disk", "the disk is full")
    assert error.kind is HubErrorKind.DISK
    with pytest.raises(ValueError):
        HubError("mystery", "?")
