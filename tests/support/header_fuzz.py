"""Seeded mutants of a real GGUF header, for tests/library/test_header_fuzz.py and bench/header_fuzz.py.

A mutant is the original file's header with a few bytes changed (bits flipped,
counts and lengths set to hostile values, regions zeroed, copied, cut, inserted
or removed); the data section after it is written as a sparse run of zeros of the
original's length, so even a 98 MB model makes a mutant in a millisecond. Most
mutations aim at the header's structure (counts, lengths, types, tensor infos),
found by walking the original once, since random bits mostly land in the vocabulary.
"""

from __future__ import annotations

import random
import struct
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.library.gguf_info import GGUFFileError, read_info_uncached

HOSTILE_U64 = (0, 1, 2, 255, 2**31, 2**32 - 1, 2**32, 11_895_552, 2**62, 2**63 - 1, 2**63, 2**64 - 1)
HOSTILE_U32 = (0, 1, 4, 8, 9, 12, 13, 77, 2**31, 2**32 - 1)
KINDS = ("flip", "field_flip", "field_value", "zero", "copy", "cut", "insert", "remove", "zero_tensors")
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


@dataclass(frozen=True)
class Field:
    offset: int
    size: int  # 4 or 8


@dataclass(frozen=True)
class Original:
    head: bytes  # the header, up to the data section
    file_size: int
    fields: tuple[Field, ...]  # where counts, lengths and types sit
    tensors_at: int  # where the tensor infos start


def _walk(head: bytes) -> tuple[list[Field], int]:
    """The structural fields of a well-formed header (the first few lengths of each long array only)."""
    fields = [Field(8, 8), Field(16, 8)]
    n_tensors, n_kv = struct.unpack_from("<QQ", head, 8)
    pos = 24

    def string() -> None:
        nonlocal pos
        fields.append(Field(pos, 8))
        pos += 8 + struct.unpack_from("<Q", head, pos)[0]

    for _ in range(n_kv):
        string()
        fields.append(Field(pos, 4))
        vtype = struct.unpack_from("<I", head, pos)[0]
        pos += 4
        if vtype == 8:
            string()
        elif vtype == 9:
            fields += [Field(pos, 4), Field(pos + 4, 8)]
            etype, count = struct.unpack_from("<IQ", head, pos)
            pos += 12
            for i in range(count):
                if etype == 8:
                    if i < 4:
                        string()
                    else:
                        pos += 8 + struct.unpack_from("<Q", head, pos)[0]
                else:
                    pos += _SCALAR_SIZES[etype]
        else:
            pos += _SCALAR_SIZES[vtype]
    tensors_at = pos
    for _ in range(n_tensors):
        string()
        fields.append(Field(pos, 4))
        n_dims = struct.unpack_from("<I", head, pos)[0]
        pos += 4
        fields += [Field(pos + 8 * d, 8) for d in range(n_dims)]
        pos += 8 * n_dims
        fields += [Field(pos, 4), Field(pos + 4, 8)]
        pos += 12
    return fields, tensors_at


def load_original(path: Path) -> Original:
    from app.library.gguf_reader import read_header

    header = read_header(path)
    with path.open("rb") as handle:
        head = handle.read(header.data_offset)
    fields, tensors_at = _walk(head)
    return Original(head, header.file_size, tuple(fields), tensors_at)


def _set(data: bytearray, field: Field, value: int) -> None:
    struct.pack_into("<Q" if field.size == 8 else "<I", data, field.offset, value % (1 << (8 * field.size)))


def mutate(original: Original, rng: random.Random, kind: str) -> tuple[bytearray, int]:
    """One mutant of the header, and the length of the zeros that follow it."""
    data = bytearray(original.head)
    tail = original.file_size - len(data)
    field = rng.choice(original.fields)
    span = rng.choice((1, 8, 64, 4096))
    at = rng.randrange(len(data))
    if kind == "flip":
        for _ in range(rng.choice((1, 2))):
            bit = rng.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
    elif kind == "field_flip":
        for _ in range(rng.choice((1, 2))):
            data[field.offset + rng.randrange(field.size)] ^= 1 << rng.randrange(8)
    elif kind == "field_value":
        current = int.from_bytes(data[field.offset:field.offset + field.size], "little")
        choices = (HOSTILE_U64 if field.size == 8 else HOSTILE_U32) + (current + 1, current - 1, original.file_size)
        _set(data, field, rng.choice(choices))
    elif kind == "zero":
        start = rng.choice((field.offset, at))
        data[start:start + span] = bytes(len(data[start:start + span]))
    elif kind == "copy":
        source = rng.choice(original.fields).offset
        piece = data[source:source + span]
        data[field.offset:field.offset + len(piece)] = piece
    elif kind == "cut":
        del data[rng.choice((field.offset, at)):]
        tail = 0
    elif kind == "insert":
        data[at:at] = bytes(rng.randrange(256) for _ in range(span))
    elif kind == "remove":
        del data[at:at + span]
    elif kind == "zero_tensors":  # the file: a huge tensor count over an all-zero region
        _set(data, Field(8, 8), rng.choice((11_895_552, 2**20, len(data) // 24)))
        data[original.tensors_at:] = bytes(len(data) - original.tensors_at)
    return data, tail


def write_mutant(path: Path, data: bytes, tail: int) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.truncate(len(data) + tail)  # the rest is a hole: zeros that take no disk


@dataclass(frozen=True)
class Outcome:
    kind: str  # the mutation
    result: str  # "read", the GGUFFileError kind, or the name of anything else raised
    seconds: float
    peak_bytes: int  # Python memory at its highest during the read (tracemalloc)
    message: str


def read_mutant(path: Path, kind: str, time_limit: float, measure_memory: bool = True) -> Outcome:
    if measure_memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        read_info_uncached(path, deadline=time.monotonic() + time_limit)
        result, message = "read", ""
    except GGUFFileError as exc:
        result, message = str(exc.kind), str(exc)
    except Exception as exc:  # noqa: BLE001 - the fuzzer reports what it should never see
        result, message = type(exc).__name__, str(exc)
    seconds = time.perf_counter() - started
    peak = 0
    if measure_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Outcome(kind, result, seconds, peak, message)


def run(original_path: Path, folder: Path, count: int, seed: int, time_limit: float,
        measure_memory_every: int = 1) -> Iterator[Outcome]:
    """`count` seeded mutants of the file, each written to `folder` and read once.

    Memory is measured on every Nth read (0: never): tracemalloc makes a read of a large
    vocabulary's header about 10x slower.
    """
    original = load_original(original_path)
    rng = random.Random(seed)
    target = folder / f"mutant-{original_path.stem}.gguf"
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        data, tail = mutate(original, rng, kind)
        write_mutant(target, bytes(data), tail)
        measure = measure_memory_every > 0 and i % measure_memory_every == 0
        yield read_mutant(target, kind, time_limit, measure)
