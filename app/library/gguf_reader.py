"""Walk a GGUF file's header (key/values and tensor infos) without decoding the vocabulary.

Every count and length is checked against the bytes left in the file before
anything is allocated or looped over, so a hostile header fails at once with
a plain message instead of eating memory. Large arrays are not decoded:
numeric ones are skipped by arithmetic; string arrays (the vocabulary and the
merges, up to a million strings) are skipped by finding where the next
`tokenizer.` key starts and accepting that guess only if the whole header
then fits the file exactly; otherwise their lengths are walked one by one,
under a deadline.
"""

from __future__ import annotations

import mmap
import struct
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

MAGIC = b"GGUF"
STRING, ARRAY = 8, 9
SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
SMALL_ARRAY = 65536  # numeric arrays up to this length are decoded (per-layer values, token types are not needed)
SMALL_STRING_ARRAY = 256  # string arrays up to this length are decoded (languages, tags)
FAST_SKIP_MIN = 4096  # string arrays this long are skipped by the guess-and-verify path first
MAX_KEY = 65535
MAX_DIMS = 8
DEFAULT_ALIGNMENT = 32
DEADLINE_EVERY = 32768  # loop iterations between two looks at the clock

# ggml tensor types: (elements per block, bytes per block)
TYPE_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}
TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K",
    12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
    20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
    29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4", 41: "Q1_0",
}

_U32 = struct.Struct("<I").unpack_from
_U64 = struct.Struct("<Q").unpack_from


class GGUFErrorKind(StrEnum):
    """Why a file is not a model Hearth can read (values match the engine's ErrorKind)."""

    MISSING_FILE = "missing_file"
    NOT_GGUF = "not_gguf"
    TRUNCATED = "truncated"
    TIMEOUT = "timeout"


class HeaderError(ValueError):
    """The header is damaged, hostile or cut short (NOT_GGUF or TRUNCATED)."""

    def __init__(self, kind: GGUFErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Guess(Exception):
    """A skipped-array guess did not hold up; the header is read again the slow, sure way."""


@dataclass(frozen=True)
class ArrayRef:
    """An array left undecoded: where its elements start and how many there are."""

    element_type: int
    count: int
    offset: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    type: int
    offset: int  # from the start of the data section
    n_elements: int
    n_bytes: int


@dataclass(frozen=True)
class Header:
    version: int
    values: dict[str, Any]  # scalars, strings, small arrays as lists, large arrays as ArrayRef
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    file_size: int


class _Cursor:
    def __init__(self, buf, size: int, deadline: float | None, name: str) -> None:
        self.buf, self.size, self.pos, self.deadline, self.name = buf, size, 0, deadline, name

    def need(self, n: int, what: str) -> None:
        if n < 0 or n > self.size - self.pos:
            raise HeaderError(GGUFErrorKind.TRUNCATED, f"the GGUF header is damaged: {what} runs past the end of the file "
                                           f"({self.name})")

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeoutError(f"reading the header took too long ({self.name})")

    def u32(self, what: str) -> int:
        self.need(4, what)
        value = _U32(self.buf, self.pos)[0]
        self.pos += 4
        return value

    def u64(self, what: str) -> int:
        self.need(8, what)
        value = _U64(self.buf, self.pos)[0]
        self.pos += 8
        return value

    def string(self, what: str, limit: int | None = None) -> str:
        n = self.u64(what)
        if limit is not None and n > limit:
            raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: {what} is {n:,} bytes long ({self.name})")
        self.need(n, what)
        raw = self.buf[self.pos:self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")


def _skip_strings_walk(cur: _Cursor, count: int, key: str) -> None:
    buf, pos, size = cur.buf, cur.pos, cur.size
    for i in range(count):
        if pos + 8 > size:
            cur.pos = pos
            cur.need(8, f"the array {key}")
        pos += 8 + _U64(buf, pos)[0]
        if not i % DEADLINE_EVERY:
            cur.check_time()
    if pos > size:
        raise HeaderError(GGUFErrorKind.TRUNCATED, f"the GGUF header is damaged: the array {key} runs past the end of the file "
                                       f"({cur.name})")
    cur.pos = pos


_NEXT_KEY = b"\x00" * 7 + b"tokenizer."


def _skip_strings_guess(cur: _Cursor, count: int) -> None:
    """Jump to the next `tokenizer.` key after a long string array (checked later by _verify)."""
    start = cur.pos + 8 * count - 1  # every element takes at least 8 bytes
    for _ in range(8):
        found = cur.buf.find(_NEXT_KEY, start)
        if found < 1:
            break
        begin = found - 1
        key_len = _U64(cur.buf, begin)[0]
        end = begin + 8 + key_len
        if 10 <= key_len <= 256 and end + 4 <= cur.size:
            key = cur.buf[begin + 8:end]
            if key.isascii() and b" " not in key and _U32(cur.buf, end)[0] <= 12:
                cur.pos = begin
                return
        start = found + 1
    raise _Guess()


def _read_value(cur: _Cursor, vtype: int, key: str, guess: bool) -> Any:
    if vtype == STRING:
        return cur.string(f"the value of {key}")
    if vtype in SCALAR_FORMATS:
        fmt = "<" + SCALAR_FORMATS[vtype]
        size = struct.calcsize(fmt)
        cur.need(size, f"the value of {key}")
        value = struct.unpack_from(fmt, cur.buf, cur.pos)[0]
        cur.pos += size
        return value
    if vtype != ARRAY:
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: {key} has an unknown value type {vtype} "
                                      f"({cur.name})")
    etype = cur.u32(f"the array {key}")
    count = cur.u64(f"the array {key}")
    offset = cur.pos
    if etype == STRING:
        cur.need(count * 8, f"the array {key} ({count:,} strings)")
        if count <= SMALL_STRING_ARRAY:
            return [cur.string(f"an element of {key}") for _ in range(count)]
        if guess and count >= FAST_SKIP_MIN:
            _skip_strings_guess(cur, count)
        else:
            _skip_strings_walk(cur, count, key)
        return ArrayRef(etype, count, offset)
    if etype not in SCALAR_FORMATS:  # nested arrays are not used by any model key
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: the array {key} has elements of type {etype} "
                                      f"({cur.name})")
    fmt = SCALAR_FORMATS[etype]
    nbytes = count * struct.calcsize(fmt)
    cur.need(nbytes, f"the array {key} ({count:,} elements)")
    if count <= SMALL_ARRAY:
        values = list(struct.unpack_from(f"<{count}{fmt}", cur.buf, cur.pos))
        cur.pos += nbytes
        return values
    cur.pos += nbytes
    return ArrayRef(etype, count, offset)


def _read_tensor(cur: _Cursor, index: int) -> TensorInfo:
    name = cur.string(f"the name of tensor {index}", limit=MAX_KEY)
    n_dims = cur.u32(f"tensor {name}")
    if n_dims > MAX_DIMS:
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: tensor {name} has {n_dims} dimensions "
                                      f"({cur.name})")
    dims = tuple(cur.u64(f"tensor {name}") for _ in range(n_dims))
    ttype = cur.u32(f"tensor {name}")
    offset = cur.u64(f"tensor {name}")
    if ttype not in TYPE_SIZES:
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"tensor {name} has type {ttype}, which this version of Hearth does not "
                                      f"know ({cur.name})")
    n_elements = 1
    for d in dims:
        n_elements *= d
    block, block_bytes = TYPE_SIZES[ttype]
    if n_elements > cur.size * block or (dims and dims[0] % block):
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: tensor {name} has impossible dimensions "
                                      f"({cur.name})")
    return TensorInfo(name, dims, ttype, offset, n_elements, n_elements // block * block_bytes)


def _parse(buf, size: int, name: str, deadline: float | None, guess: bool) -> Header:
    cur = _Cursor(buf, size, deadline, name)
    cur.need(24, "the header")
    if bytes(buf[0:4]) != MAGIC:
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"not a GGUF model file (wrong file type): {name}")
    cur.pos = 4
    version = cur.u32("the version")
    if version not in (2, 3):
        if version in (0x02000000, 0x03000000):
            raise HeaderError(GGUFErrorKind.NOT_GGUF, f"big-endian GGUF files are not supported: {name}")
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"GGUF version {version} is not supported: {name}")
    n_tensors = cur.u64("the tensor count")
    n_kv = cur.u64("the key count")
    # The smallest key/value takes 13 bytes and the smallest tensor info 24: counts past that are lies.
    if n_kv * 13 > size - cur.pos or n_tensors * 24 > size - cur.pos:
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: it claims {n_kv:,} keys and {n_tensors:,} "
                                      f"tensors, more than the file can hold ({name})")
    values: dict[str, Any] = {}
    for i in range(n_kv):
        key = cur.string(f"key {i}", limit=MAX_KEY)
        vtype = cur.u32(f"the type of {key}")
        values[key] = _read_value(cur, vtype, key, guess)
        if not i % 64:
            cur.check_time()
    tensors = []
    for i in range(n_tensors):
        tensors.append(_read_tensor(cur, i))
        if not i % 1024:
            cur.check_time()
    alignment = values.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: alignment {alignment!r} ({name})")
    data_offset = -(-cur.pos // alignment) * alignment
    header = Header(version, values, tuple(tensors), data_offset, size)
    if guess:
        _verify(header, cur.pos, alignment)
    return header


def _verify(header: Header, end_of_header: int, alignment: int) -> None:
    """A guessed skip is kept only when the header and the data then fill the file exactly."""
    if not header.tensors:
        if not 0 <= header.file_size - end_of_header < alignment:
            raise _Guess()
        return
    data_end = header.data_offset + max(t.offset + t.n_bytes for t in header.tensors)
    if not 0 <= header.file_size - data_end < alignment:
        raise _Guess()


def read_header(path: Path, deadline: float | None = None) -> Header:
    """The header of one GGUF file. Raises HeaderError, TimeoutError or OSError."""
    with path.open("rb") as handle:
        size = path.stat().st_size
        if size < 24:
            head = handle.read(4)
            if head == MAGIC:
                raise HeaderError(GGUFErrorKind.TRUNCATED, f"the GGUF file is incomplete ({size} bytes): {path.name}")
            raise HeaderError(GGUFErrorKind.NOT_GGUF, f"not a GGUF model file (wrong file type): {path.name}")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            try:
                return _parse(buf, size, path.name, deadline, guess=True)
            except _Guess:
                pass
            except HeaderError:
                pass  # the sure way below gives the error (a guess may have been wrong)
            return _parse(buf, size, path.name, deadline, guess=False)


def string_at(path: Path, array: ArrayRef, index: int, deadline: float | None = None) -> str:
    """One element of an undecoded string array (walks the lengths before it)."""
    if not 0 <= index < array.count or array.element_type != STRING:
        return ""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        cur = _Cursor(buf, len(buf), deadline, path.name)
        cur.pos = array.offset
        _skip_strings_walk(cur, index, "the vocabulary")
        return cur.string("a token")
