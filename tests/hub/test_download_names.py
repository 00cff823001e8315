"""Hub file names with control characters are refused before anything is written."""

from __future__ import annotations

import pytest

from app import paths
from app.cli import main
from app.hub.download import Downloader
from app.hub.download_record import DownloadRecord, saved_downloads
from app.hub.errors import HubError
from app.hub.search import list_gguf_files

EVIL_REPO = "hearth-test/Evil-Names-GGUF"


@pytest.mark.parametrize("name", ["nul\x00.Q4_0.gguf", "line\nbreak.Q4_0.gguf", "esc\x1b[2J.Q4_0.gguf",
                                  "sub\rdir/x.Q4_0.gguf"])
def test_a_control_character_in_a_file_name_is_refused_and_leaves_nothing(fake_hub, tiny_model, name):
    fake_hub.add_repo(EVIL_REPO, {name: tiny_model.read_bytes()})
    [choice] = list_gguf_files(EVIL_REPO)
    with pytest.raises(HubError) as caught:
        Downloader(DownloadRecord.for_choice(EVIL_REPO, choice), retry_backoff=0.01).run()
    assert caught.value.kind == "unsafe"
    assert caught.value.message == f"refusing a file name with a control character: {name!r}"
    assert saved_downloads() == []
    assert not any(p.is_file() for p in paths.models_dir().rglob("*"))


def test_hearth_download_of_a_nul_name_exits_2_with_one_line(fake_hub, tiny_model, capsys):
    fake_hub.add_repo(EVIL_REPO, {"evil\x00.Q4_0.gguf": tiny_model.read_bytes()})
    assert main(["download", EVIL_REPO, "--quant", "Q4_0"]) == 2
    assert capsys.readouterr().err == "hearth: refusing a file name with a control character: 'evil\\x00.Q4_0.gguf'\n"
