"""Hostile and damaged GGUF files for the header tests: built by hand or from a real header.

Large files are sparse (the header, then a hole of zeros), so a file that claims
hundreds of megabytes costs the test no disk and no time to write.
"""

from __future__ import annotations

import struct
from pathlib import Path

from app.library.gguf_reader import read_header
from tests.support.header_fuzz import load_original, write_mutant


def gguf_string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def kv_string(key: str, value: str) -> bytes:
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)


def tensor_info(name: str | bytes, dims: tuple[int, ...], offset: int, ggml_type: int = 0) -> bytes:
    return gguf_string(name) + struct.pack(f"<I{len(dims)}Q", len(dims), *dims) + struct.pack("<IQ", ggml_type, offset)


def minimal_gguf(path: Path, tensors: list[bytes], data_bytes: int, extra_kv: bytes = b"", n_extra_kv: int = 0) -> Path:
    """A llama header with these tensor infos, padded to 32 bytes, then `data_bytes` of zeros (a hole)."""
    head = (b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1 + n_extra_kv) + kv_string("general.architecture", "llama")
            + extra_kv + b"".join(tensors))
    head += bytes(-len(head) % 32)
    write_mutant(path, head, data_bytes)
    return path


def header_of(path: Path) -> bytearray:
    """The bytes of a model's header, up to its data section."""
    with path.open("rb") as handle:
        return bytearray(handle.read(read_header(path).data_offset))


def flip_vocabulary_length_bits(real: Path, target: Path) -> Path:
    """The issue's file: two high bits flipped in the length of token 0, so reading the bos token runs off the file."""
    header = read_header(real)
    head = header_of(real)
    tokens = header.values["tokenizer.ggml.tokens"]
    head[tokens.offset + 7] ^= 0b0110_0000  # bits 61 and 62 of a little-endian u64
    write_mutant(target, head, header.file_size - len(head))
    return target


def zero_tensor_region(real: Path, target: Path, n_tensors: int = 11_895_552) -> Path:
    """The issue's file: real keys, then a tensor count of millions over zeros that the file can hold."""
    original = load_original(real)
    head = bytearray(original.head[:original.tensors_at])
    struct.pack_into("<Q", head, 8, n_tensors)
    write_mutant(target, head, n_tensors * 24 + 4096)
    return target


def rename(real: Path, target: Path, old: bytes, new: bytes) -> Path:
    """A copy with one key or tensor name replaced by another of the same length."""
    assert len(old) == len(new)
    data = real.read_bytes()
    at = data.index(struct.pack("<Q", len(old)) + old)
    target.write_bytes(data[:at + 8] + new + data[at + 8 + len(old):])
    return target


def slow_vocabulary(path: Path, n_strings: int = 1 << 24) -> Path:
    """A header whose vocabulary is millions of empty strings: honest, but slow to walk (a sparse file)."""
    head = (b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv_string("general.architecture", "llama")
            + gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, n_strings))
    write_mutant(path, head, 8 * n_strings)
    return path


def move_tensor(real: Path, target: Path, name: str, offset: int) -> Path:
    """A copy where one tensor claims to start at another byte of the data section."""
    data = bytearray(real.read_bytes())
    at = data.index(gguf_string(name)) + 8 + len(name)
    n_dims = struct.unpack_from("<I", data, at)[0]
    struct.pack_into("<Q", data, at + 4 + 8 * n_dims + 4, offset)
    target.write_bytes(data)
    return target
