"""The library pairs each image projector with its model from the headers it has already read:
by repository (folder, or a Hugging Face cache snapshot), output width and the model's name."""

from __future__ import annotations

from app import paths
from app.library.library import cached_library, scan_library
from app.library.projector import pair_projector, repository_root
from tests.support.tiny_gguf import write_tiny_model
from tests.support.tiny_vision import write_tiny_projector, write_tiny_vision_pair


def by_name(models) -> dict:
    return {m.path.name: m for m in models}


def test_the_scan_pairs_a_projector_and_never_lists_it_as_a_chat_model(tmp_path):
    folder = paths.models_dir() / "someone" / "tiny-vision-GGUF"
    model, projector = write_tiny_vision_pair(folder)
    text = write_tiny_model(paths.models_dir() / "other" / "text.gguf")
    lonely = write_tiny_projector(paths.models_dir() / "lonely" / "mmproj-x.gguf")
    for listed in (scan_library(), cached_library()):  # the quick list at start-up pairs the same way
        rows = by_name(listed)
        assert rows[model.name].sees_images and rows[model.name].projector == projector
        assert rows[projector.name].info is None and rows[projector.name].is_projector
        assert rows[projector.name].projector_of == model
        assert not rows[text.name].sees_images
        assert rows[lonely.name].is_projector and rows[lonely.name].projector_of is None


def test_a_hub_snapshot_pairs_across_its_folders_and_by_the_headers_name(tmp_path):
    snapshot = tmp_path / "hub" / "models--org--vlm-GGUF" / "snapshots" / "abc123"
    model = write_tiny_model(snapshot / "Q8" / "vlm-Q8_0.gguf", name="Vision Thing")
    assert repository_root(model) == snapshot
    projector = write_tiny_projector(snapshot / "mmproj" / "projector.gguf")
    assert pair_projector(model) == projector
    # two that fit: the one whose header names the same model wins over a closer file name
    named = write_tiny_projector(snapshot / "mmproj" / "zz.gguf", name="Vision Thing")
    write_tiny_projector(snapshot / "mmproj" / "vlm-Q8_0-other.gguf")
    assert pair_projector(model) == named
    # another repository's projector is never paired
    elsewhere = write_tiny_model(tmp_path / "hub" / "models--org--b" / "snapshots" / "d" / "b.gguf")
    assert pair_projector(elsewhere) is None


def test_a_download_with_its_projector_in_a_subfolder_is_paired():
    repo = paths.models_dir() / "org" / "vlm-GGUF"
    model = write_tiny_model(repo / "vlm-Q8_0.gguf")
    projector = write_tiny_projector(repo / "mmproj" / "mmproj-vlm-f16.gguf")
    assert repository_root(projector) == repo and pair_projector(model) == projector
    assert by_name(scan_library())[model.name].projector == projector


def test_a_failed_loads_memory_advice_counts_the_projector_it_names_or_pairs(tmp_path):
    from app.engine.load_params import projector_header
    from app.engine.protocol import AUTO_PROJECTOR, LoadOptions
    from app.library.gguf_info import read_gguf_info
    from app.library.memory_plan import plan_memory

    model, projector = write_tiny_vision_pair(tmp_path / "repo")
    for named in (AUTO_PROJECTOR, str(projector)):
        assert projector_header(LoadOptions(str(model), mmproj=named)).path == str(projector.resolve())
    assert projector_header(LoadOptions(str(model))) is None  # a text load
    info = read_gguf_info(model)
    with_it = plan_memory(info, 512, projector=projector_header(LoadOptions(str(model), mmproj=AUTO_PROJECTOR)))
    assert with_it.peak_bytes - plan_memory(info, 512).peak_bytes == with_it.part("projector").cpu + \
        with_it.part("projector_compute").cpu > 100_000
