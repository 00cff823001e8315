"""The header reader: the facts gguf-py reports, fast; hostile headers fail at once with a plain message."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.library import gguf_reader
from app.library.gguf_info import GGUFFileError, read_gguf_info, read_info_uncached


def _gguf_py_facts(path: Path) -> dict:
    from gguf import GGUFReader

    reader = GGUFReader(str(path), "r")
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("tokenizer.ggml.")}
    tokens = reader.fields["tokenizer.ggml.tokens"].contents() if "tokenizer.ggml.tokens" in reader.fields else []
    return {
        "arch": fields["general.architecture"],
        "template": fields.get("tokenizer.chat_template", ""),
        "n_params": sum(int(t.n_elements) for t in reader.tensors),
        "bytes": sum(int(t.n_bytes) for t in reader.tensors),
        "vocab": len(tokens),
        "bos": tokens[reader.fields["tokenizer.ggml.bos_token_id"].contents()] if tokens else "",
        "eos": tokens[reader.fields["tokenizer.ggml.eos_token_id"].contents()] if tokens else "",
        "ctx": fields.get(f"{fields['general.architecture']}.context_length", 0),
    }


def _our_facts(path: Path) -> dict:
    info = read_info_uncached(path)
    return {
        "arch": info.architecture,
        "template": info.chat_template,
        "n_params": info.n_params,
        "bytes": sum(info.layer_bytes) + info.other_bytes,
        "vocab": info.vocab_size,
        "bos": info.bos_token,
        "eos": info.eos_token,
        "ctx": info.context_length,
    }


def test_facts_equal_gguf_py_on_tiny_models(tiny_model, no_template_model, scripted_model):
    for path in (tiny_model, no_template_model, scripted_model):
        assert _our_facts(path) == _gguf_py_facts(path)


def test_facts_of_the_real_smollm2_file(smollm2):
    info = read_gguf_info(smollm2)
    assert (info.architecture, info.quantization, info.context_length, info.n_layers) == ("llama", "Q4_1", 8192, 30)
    assert (info.vocab_size, info.bos_token_id, info.eos_token_id) == (49152, 1, 2)
    assert (info.bos_token, info.eos_token) == ("<|im_start|>", "<|im_end|>")
    assert info.has_chat_template and "<|im_start|>" in info.chat_template
    assert info.n_params == 134_515_008 and info.file_type == 3
    assert _our_facts(smollm2) == _gguf_py_facts(smollm2)


def test_the_quick_skip_and_the_sure_walk_agree(smollm2):
    import mmap

    with smollm2.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        size = len(buf)
        quick = gguf_reader._parse(buf, size, smollm2.name, None, guess=True)
        sure = gguf_reader._parse(buf, size, smollm2.name, None, guess=False)
    assert quick == sure
    assert isinstance(quick.values["tokenizer.ggml.tokens"], gguf_reader.ArrayRef)


def test_a_wrong_guess_falls_back_to_the_walk(tmp_path, tiny_model, monkeypatch):
    """A vocabulary whose strings look like keys cannot mislead the reader: the result is checked."""
    monkeypatch.setattr(gguf_reader, "FAST_SKIP_MIN", 1)
    expected = read_info_uncached(tiny_model)
    monkeypatch.setattr(gguf_reader, "_NEXT_KEY", b"\x00" * 7 + b"<")  # points inside the vocabulary
    assert read_info_uncached(tiny_model) == expected


# ------------------------------------------------------------------ hostile headers


def _kv_string(key: str) -> bytes:
    raw = key.encode()
    return struct.pack("<Q", len(raw)) + raw


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


HOSTILE = {
    # the 84-byte file: one array of 2**62 uint8 elements
    "huge_array": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _kv_string("general.hostile." + "x" * 20)
                  + struct.pack("<IIQ", 9, 0, 2**62),
    # a string whose length runs past the end of the file (a 69-byte file)
    "huge_string": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _kv_string("general.name")
                   + struct.pack("<IQ", 8, 2**40) + b"x" * 13,
    "huge_tensor_count": b"GGUF" + struct.pack("<IQQ", 3, 2**62, 0) + b"\0" * 64,
    "huge_kv_count": b"GGUF" + struct.pack("<IQQ", 3, 0, 2**62) + b"\0" * 64,
    "unknown_type": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _kv_string("general.name") + struct.pack("<I", 77)
                    + b"\0" * 16,
    "nested_array": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _kv_string("general.tags")
                    + struct.pack("<IIQ", 9, 9, 2) + b"\0" * 32,
    "huge_key": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**63) + b"\0" * 32,
    "string_array_past_end": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _kv_string("tokenizer.ggml.tokens")
                             + struct.pack("<IIQ", 9, 8, 2**20) + b"\0" * 64,
    "big_endian": b"GGUF" + struct.pack(">IQQ", 3, 0, 1) + b"\0" * 32,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_headers_fail_fast_with_a_plain_message(tmp_path, name):
    path = _write(tmp_path, f"{name}.gguf", HOSTILE[name])
    with pytest.raises(GGUFFileError) as caught:
        read_gguf_info(path)
    message = str(caught.value)
    assert path.name in message and "Traceback" not in message
    assert caught.value.kind in ("not_gguf", "truncated")


def test_the_84_byte_file_is_84_bytes():
    assert len(HOSTILE["huge_array"]) == 84


def test_tensor_data_cut_short_is_incomplete(tmp_path, tiny_model):
    data = tiny_model.read_bytes()
    path = _write(tmp_path, "cut.gguf", data[: len(data) - 1000])
    with pytest.raises(GGUFFileError) as caught:
        read_gguf_info(path)
    assert caught.value.kind == "truncated" and "incomplete" in str(caught.value)


def test_a_deadline_stops_a_slow_read(tmp_path, tiny_model, monkeypatch):
    import time

    monkeypatch.setattr(gguf_reader, "FAST_SKIP_MIN", 10**9)  # force the walk
    monkeypatch.setattr(gguf_reader, "DEADLINE_EVERY", 1)
    monkeypatch.setattr(gguf_reader, "SMALL_STRING_ARRAY", 0)
    with pytest.raises(GGUFFileError) as caught:
        read_info_uncached(tiny_model, deadline=time.monotonic() - 1)
    assert caught.value.kind == "timeout"
