"""Hostile and damaged headers (issue 29): one bad file is one unreadable row, and costs little time and memory."""

from __future__ import annotations

import struct
import time
import tracemalloc

import pytest

from app import paths
from app.cli import main
from app.library import gguf_info, gguf_reader
from app.library.gguf_info import GGUFFileError, read_gguf_info, read_info_uncached
from app.library.library import scan_library
from app.library.model_import import import_model
from tests.support import hostile_gguf as hostile


def _refusal(path, seconds: float = 3.0) -> tuple[GGUFFileError, float]:
    started = time.perf_counter()
    with pytest.raises(GGUFFileError) as caught:
        read_info_uncached(path, deadline=time.monotonic() + seconds)
    return caught.value, time.perf_counter() - started


def test_two_flipped_bits_in_the_vocabulary_are_one_unreadable_row(smollm2, tiny_model):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    hostile.flip_vocabulary_length_bits(smollm2, folder / "damaged.gguf")
    (folder / "good.gguf").write_bytes(tiny_model.read_bytes())
    rows = {m.path.name: m for m in scan_library()}
    damaged = rows["damaged.gguf"]
    assert rows["good.gguf"].info is not None and damaged.info is None
    assert damaged.problem.startswith("the GGUF header is damaged") and "damaged.gguf" in damaged.problem


def test_hearth_models_lists_every_other_model_beside_a_damaged_one(smollm2, tiny_model, capsys):
    folder = paths.models_dir() / "pub"
    folder.mkdir(parents=True)
    hostile.flip_vocabulary_length_bits(smollm2, folder / "damaged.gguf")
    (folder / "good.gguf").write_bytes(tiny_model.read_bytes())
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("llama") and line.endswith("good.gguf") for line in lines)
    assert any(line.startswith("broken") and "damaged.gguf" in line and "the GGUF header is damaged" in line
               for line in lines)


def test_a_huge_tensor_count_over_zeros_ends_at_the_second_entry(tmp_path, tiny_model):
    path = hostile.zero_tensor_region(tiny_model, tmp_path / "zeros.gguf")
    assert path.stat().st_size > 11_895_552 * 24  # the file can hold the count it claims
    error, seconds = _refusal(path)
    assert error.kind == "not_gguf" and "tensor (no name) appears twice" in str(error)
    assert seconds < 0.5


def test_a_repeated_key_is_refused(tmp_path, tiny_model):
    path = hostile.rename(tiny_model, tmp_path / "twice.gguf", b"llama.context_length", b"general.architecture")
    error, _ = _refusal(path)
    assert "the key general.architecture appears twice" in str(error)


def test_a_repeated_tensor_name_is_refused(tmp_path, tiny_model):
    path = hostile.rename(tiny_model, tmp_path / "twice.gguf", b"blk.1.attn_q.weight", b"blk.0.attn_q.weight")
    error, _ = _refusal(path)
    assert "tensor blk.0.attn_q.weight appears twice" in str(error)


def test_a_tensor_that_overlaps_the_one_before_it_is_refused(tmp_path, tiny_model):
    name = gguf_reader.read_header(tiny_model).tensors[1].name
    path = hostile.move_tensor(tiny_model, tmp_path / "overlap.gguf", name, 0)
    error, _ = _refusal(path)
    assert f"tensor {name} starts at byte 0 of the data" in str(error)


@pytest.mark.parametrize("tensor, words", [
    (hostile.tensor_info("t", (1, 1, 1, 1, 1), 0), "has 5 dimensions"),
    (hostile.tensor_info("t" * 64, (1,), 0), "is 64 bytes long"),
    (hostile.tensor_info("t", (2**63,), 0), "negative dimension"),
], ids=["five_dimensions", "a_64_byte_name", "negative_dimension"])
def test_what_llama_cpp_refuses_in_a_tensor_is_refused(tmp_path, tensor, words):
    error, _ = _refusal(hostile.minimal_gguf(tmp_path / "t.gguf", [tensor], 64))
    assert error.kind == "not_gguf" and words in str(error)


def test_a_header_of_many_small_tensors_is_refused_within_its_memory_budget(tmp_path, monkeypatch):
    budget = 4 * 2**20  # the default is 64 MiB; a small one keeps the test fast under tracemalloc
    monkeypatch.setattr(gguf_reader, "MEMORY_BUDGET", budget)
    n = 50_000  # about 20 MB of Python objects if every one were kept
    tensors = [hostile.tensor_info(f"t{i}", (), 32 * i) for i in range(n)]
    path = hostile.minimal_gguf(tmp_path / "many.gguf", tensors, 32 * n)
    tracemalloc.start()
    try:
        error, _ = _refusal(path, seconds=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "would take more than 4 MiB of memory to read" in str(error)
    assert peak < budget


def test_every_entry_point_that_reads_a_header_has_a_deadline(tmp_path, monkeypatch, capsys):
    slow = hostile.slow_vocabulary(tmp_path / "slow.gguf")
    monkeypatch.setattr(gguf_info, "HEADER_TIME_LIMIT", 0.2)
    started = time.perf_counter()
    with pytest.raises(GGUFFileError) as caught:
        read_gguf_info(slow)  # the engine's load path, File -> Open, and the two below
    assert caught.value.kind == "timeout" and time.perf_counter() - started < 2
    with pytest.raises(GGUFFileError) as caught:
        import_model(slow)
    assert caught.value.kind == "timeout"
    messages = tmp_path / "m.json"
    messages.write_text('[{"role": "user", "content": "hi"}]', encoding="utf-8")
    assert main(["prompt", "--model", str(slow), "--messages", str(messages)]) == 2
    assert "took too long" in capsys.readouterr().err


@pytest.mark.parametrize("value", [float("inf"), float("nan")], ids=["infinite", "not_a_number"])
def test_a_context_length_that_is_not_a_finite_number_reads_as_unknown(tmp_path, value):
    context = hostile.gguf_string("llama.context_length") + struct.pack("<If", 6, value)
    path = hostile.minimal_gguf(tmp_path / "odd.gguf", [hostile.tensor_info("t", (8,), 0)], 32, context, 1)
    info = read_info_uncached(path)
    assert info.context_length == 0 and info.n_params == 8
