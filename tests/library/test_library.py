"""The local library: our folder, the Hugging Face cache, added folders; header facts."""

import shutil

import pytest

from app import paths
from app.library.gguf_info import GGUFFileError, format_params, read_gguf_info
from app.library.library import ScanCancelled, cached_library, delete_model, scan_library
from app.library.model_import import import_model


def test_header_facts_are_read_without_loading(tiny_model, no_template_model):
    info = read_gguf_info(tiny_model)
    assert (info.architecture, info.quantization, info.context_length, info.n_layers) == ("llama", "F32", 2048, 2)
    assert info.has_chat_template and info.bos_token == "<s>" and info.eos_token == "</s>"
    assert info.n_params == 136256 and format_params(info.n_params) == "136K"
    assert not read_gguf_info(no_template_model).has_chat_template


@pytest.mark.parametrize("name, kind", [("not_gguf", "not_gguf"), ("truncated", "truncated"), ("empty", "not_gguf")])
def test_broken_files_are_named_plainly(broken_models, name, kind):
    with pytest.raises(GGUFFileError) as caught:
        read_gguf_info(broken_models[name])
    assert caught.value.kind == kind


def test_scan_finds_our_folder_the_hf_cache_and_added_folders(tiny_model, scripted_model, tmp_path, broken_models):
    from app.library.library import hf_cache_dir

    ours = paths.models_dir() / "pub" / "repo" / "ours.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copy(tiny_model, ours)
    cached = shutil.copy(scripted_model, _hf_snapshot(str(hf_cache_dir())) / "cached.gguf")
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(tiny_model, extra / "extra.gguf")
    shutil.copy(broken_models["truncated"], extra / "broken.gguf")
    found = {m.path.name: m for m in scan_library([str(extra)])}
    assert found["ours.gguf"].source == "hearth"
    assert found["cached.gguf"].source == "hf-cache" and str(cached).endswith("cached.gguf")
    assert found["extra.gguf"].source == "folder"
    assert found["broken.gguf"].info is None and "incomplete" in found["broken.gguf"].problem
    shutil.rmtree(_hf_snapshot(str(hf_cache_dir())).parents[2])


def _hf_snapshot(cache):
    from pathlib import Path

    folder = Path(cache) / "models--someone--Cached-GGUF" / "snapshots" / ("a" * 40)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_import_copies_and_delete_only_touches_our_folder(tiny_model, broken_models):
    imported = import_model(tiny_model)
    assert imported.parent == paths.models_dir() / "imported" and imported.exists()
    with pytest.raises(GGUFFileError):
        import_model(broken_models["truncated"])
    with pytest.raises(PermissionError):
        delete_model(tiny_model)
    assert tiny_model.exists()
    delete_model(imported)
    assert not imported.exists()


def test_a_cancelled_scan_stops_between_files_and_keeps_the_index(tiny_model, scripted_model, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    for i in range(5):
        shutil.copy(tiny_model if i % 2 else scripted_model, folder / f"m{i}.gguf")
    paths.data_dir()  # the index is kept on disk once Hearth has a data folder
    first = scan_library([str(folder)])
    assert len(first) == 5
    checks: list[int] = []

    def cancelled() -> bool:
        checks.append(1)
        return len(checks) > 3

    with pytest.raises(ScanCancelled):
        scan_library([str(folder)], cancelled=cancelled)
    assert len(checks) == 4  # it stopped at the first check after being asked
    assert [m.path for m in cached_library()] == [m.path for m in first]  # nothing forgotten
