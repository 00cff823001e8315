"""Walk a GGUF file's header (key/values and tensor infos) without decoding the vocabulary.

Every count and length is checked against the bytes left in the file before
anything is allocated or looped over, and the reader ends a hostile region as
llama.cpp's own reader does (ggml/src/gguf.cpp): an empty or repeated key, a
repeated tensor name, a name too long, more than 4 dimensions, a tensor that
does not start where the one before it ends. What it decodes is charged to a
memory budget, so no header costs more than MEMORY_BUDGET whatever it claims.
Large arrays are not decoded: numeric ones are skipped by arithmetic; string
arrays (the vocabulary and the merges, up to a million strings) are skipped by
finding where the next `tokenizer.` key starts and accepting that guess only
if the whole header then fits the file exactly; otherwise their lengths are
walked one by one, under a deadline.
"""

from __future__ import annotations

import mmap
import struct
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.library.gguf_types import (
    ARRAY,
    DEFAULT_ALIGNMENT,
    INT64_MAX,
    MAX_ARRAY,
    MAX_DIMS,
    MAX_STRING,
    MAX_TENSOR_NAME,
    SCALAR_FORMATS,
    STRING,
    TYPE_SIZES,
    UINT32,
    ArrayRef,
    Header,
    StringRef,
    TensorInfo,
    padded,
)

MAGIC = b"GGUF"
SMALL_ARRAY = 65536  # numeric arrays up to this length are decoded (per-layer values, token types are not needed)
SMALL_STRING_ARRAY = 256  # string arrays up to this length are decoded (languages, tags)
FAST_SKIP_MIN = 4096  # string arrays this long are skipped by the guess-and-verify path first
GUESS_SPAN = 264  # the guess looks this many bytes per string for the next key (no real token is that long)
DECODED_STRING = 1 << 20  # longer string values (an embedded tokenizer.json) are left undecoded
MAX_KEY = 65535
MAX_SHOWN = 80  # characters of a key or tensor name quoted in a message
MEMORY_BUDGET = 64 << 20  # what decoding one header may cost; a real one costs a few MiB
OBJECT_COST = 64  # a rough price of one Python object, for the budget
TENSOR_COST = 400  # a TensorInfo with its tuple, ints and its place in the name set
DEADLINE_EVERY = 32768  # loop iterations between two looks at the clock

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


class _Cursor:
    def __init__(self, buf, size: int, deadline: float | None, name: str) -> None:
        self.buf, self.size, self.pos, self.deadline, self.name = buf, size, 0, deadline, name
        self.budget = MEMORY_BUDGET
        self.guessed = False  # a string array was skipped by a guess: an error may be the guess's fault

    def damaged(self, what: str) -> HeaderError:
        return HeaderError(GGUFErrorKind.NOT_GGUF, f"the GGUF header is damaged: {what} ({self.name})")

    def need(self, n: int, what: str) -> None:
        if n < 0 or n > self.size - self.pos:
            raise HeaderError(GGUFErrorKind.TRUNCATED,
                              f"the GGUF header is damaged: {what} runs past the end of the file ({self.name})")

    def charge(self, cost: int, what: str) -> None:
        self.budget -= cost
        if self.budget < 0:
            raise self.damaged(f"{what} would take more than {MEMORY_BUDGET >> 20} MiB of memory to read")

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

    def length(self, what: str, limit: int = MAX_STRING) -> int:
        """A string's length, checked against the limit and the bytes left."""
        n = self.u64(what)
        if n > limit:
            raise self.damaged(f"{what} is {n:,} bytes long")
        self.need(n, what)
        return n

    def string(self, what: str, limit: int = MAX_STRING) -> str:
        n = self.length(what, limit)
        self.charge(2 * n + OBJECT_COST, what)
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
        if pos > size:
            break
        if not i % DEADLINE_EVERY:
            cur.check_time()
    if pos > size:
        raise HeaderError(GGUFErrorKind.TRUNCATED, f"the GGUF header is damaged: the array {key} runs past the end of "
                                                   f"the file ({cur.name})")
    cur.pos = pos


_NEXT_KEY = b"\x00" * 7 + b"tokenizer."


def _skip_strings_guess(cur: _Cursor, count: int) -> None:
    """Jump to the next `tokenizer.` key after a long string array (checked later by _verify)."""
    start = cur.pos + 8 * count - 1  # every element takes at least 8 bytes
    end = min(cur.size, cur.pos + GUESS_SPAN * count + 4096)  # never search a whole large file
    for _ in range(8):
        found = cur.buf.find(_NEXT_KEY, start, end)
        if found < 1:
            break
        begin = found - 1
        key_len = _U64(cur.buf, begin)[0]
        key_end = begin + 8 + key_len
        if 10 <= key_len <= 256 and key_end + 4 <= cur.size:
            key = cur.buf[begin + 8:key_end]
            if key.isascii() and b" " not in key and _U32(cur.buf, key_end)[0] <= 12:
                cur.pos = begin
                return
        start = found + 1
    raise _Guess()


def _read_string_value(cur: _Cursor, key: str) -> str | StringRef:
    offset = cur.pos
    n = cur.length(f"the value of {key}")
    if n > DECODED_STRING:
        cur.pos += n
        return StringRef(n, offset + 8)
    cur.pos = offset
    return cur.string(f"the value of {key}")


def _read_array(cur: _Cursor, key: str, guess: bool) -> Any:
    etype = cur.u32(f"the array {key}")
    count = cur.u64(f"the array {key}")
    offset = cur.pos
    if count > MAX_ARRAY:
        raise cur.damaged(f"the array {key} claims {count:,} elements")
    if etype == STRING:
        cur.need(count * 8, f"the array {key} ({count:,} strings)")
        if count <= SMALL_STRING_ARRAY:
            cur.charge(count * 8 + OBJECT_COST, f"the array {key}")
            return [cur.string(f"an element of {key}") for _ in range(count)]
        if guess and count >= FAST_SKIP_MIN:
            cur.guessed = True
            _skip_strings_guess(cur, count)
        else:
            _skip_strings_walk(cur, count, key)
        return ArrayRef(etype, count, offset)
    if etype not in SCALAR_FORMATS:  # nested arrays are not used by any model key
        raise cur.damaged(f"the array {key} has elements of type {etype}")
    fmt = SCALAR_FORMATS[etype]
    nbytes = count * struct.calcsize(fmt)
    cur.need(nbytes, f"the array {key} ({count:,} elements)")
    if count <= SMALL_ARRAY:
        cur.charge(count * 40 + OBJECT_COST, f"the array {key}")  # a pointer plus an int or float object each
        values = list(struct.unpack_from(f"<{count}{fmt}", cur.buf, cur.pos))
        cur.pos += nbytes
        return values
    cur.pos += nbytes
    return ArrayRef(etype, count, offset)


def _read_value(cur: _Cursor, vtype: int, key: str, guess: bool) -> Any:
    if vtype == STRING:
        return _read_string_value(cur, key)
    if vtype in SCALAR_FORMATS:
        fmt = "<" + SCALAR_FORMATS[vtype]
        size = struct.calcsize(fmt)
        cur.need(size, f"the value of {key}")
        value = struct.unpack_from(fmt, cur.buf, cur.pos)[0]
        cur.pos += size
        return value
    if vtype != ARRAY:
        raise cur.damaged(f"the key {key} has an unknown value type {vtype}")
    return _read_array(cur, key, guess)


def shown(name: str) -> str:
    """A key or tensor name as a message may quote it: short and printable (a damaged one can be neither)."""
    clean = "".join(c if c.isprintable() else "?" for c in name[:MAX_SHOWN])
    return clean + "…" if len(name) > MAX_SHOWN else clean


def _read_values(cur: _Cursor, n_kv: int, guess: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for i in range(n_kv):
        key = cur.string(f"key {i}", limit=MAX_KEY)
        label = shown(key)
        if not key:
            raise cur.damaged(f"key {i} is empty")
        if key in values:
            raise cur.damaged(f"the key {label} appears twice")
        cur.charge(OBJECT_COST, label)
        vtype = cur.u32(f"the type of {label}")
        if key == "general.alignment" and vtype != UINT32:
            raise cur.damaged(f"general.alignment has value type {vtype}, not uint32")
        values[key] = _read_value(cur, vtype, label, guess)
        if not i % 64:
            cur.check_time()
    return values


def _read_tensor(cur: _Cursor, index: int, expected_offset: int, names: set[str]) -> TensorInfo:
    name = cur.string(f"the name of tensor {index}", limit=MAX_TENSOR_NAME)
    label = shown(name) or "(no name)"
    if name in names:
        raise cur.damaged(f"tensor {label} appears twice")
    names.add(name)
    n_dims = cur.u32(f"tensor {label}")
    if n_dims > MAX_DIMS:
        raise cur.damaged(f"tensor {label} has {n_dims} dimensions")
    dims = tuple(cur.u64(f"tensor {label}") for _ in range(n_dims))
    ttype = cur.u32(f"tensor {label}")
    offset = cur.u64(f"tensor {label}")
    if any(d > INT64_MAX for d in dims):
        raise cur.damaged(f"tensor {label} has a negative dimension")
    if ttype not in TYPE_SIZES:
        raise HeaderError(GGUFErrorKind.NOT_GGUF, f"tensor {label} has type {ttype}, which this version of Hearth "
                                                  f"does not know ({cur.name})")
    n_elements = 1
    for d in dims:
        n_elements *= d
    block, block_bytes = TYPE_SIZES[ttype]
    if n_elements > INT64_MAX or n_elements > cur.size * block or (dims and dims[0] % block):
        raise cur.damaged(f"tensor {label} has impossible dimensions")
    if offset != expected_offset:
        raise cur.damaged(f"tensor {label} starts at byte {offset:,} of the data, not at {expected_offset:,} "
                          "where the one before it ends")
    return TensorInfo(name, dims, ttype, offset, n_elements, n_elements // block * block_bytes)


def _read_tensors(cur: _Cursor, n_tensors: int, alignment: int) -> list[TensorInfo]:
    tensors: list[TensorInfo] = []
    names: set[str] = set()
    data_size = 0
    for i in range(n_tensors):
        cur.charge(TENSOR_COST, f"tensor {i}")
        tensor = _read_tensor(cur, i, data_size, names)
        tensors.append(tensor)
        data_size += padded(tensor.n_bytes, alignment)
        if not i % 1024:
            cur.check_time()
    return tensors


def _parse(buf, size: int, name: str, deadline: float | None, guess: bool) -> Header:
    cur = _Cursor(buf, size, deadline, name)
    try:
        return _parse_at(cur, guess)
    except HeaderError:
        if cur.guessed:
            raise _Guess() from None  # the sure way gives the error (the guess may have been wrong)
        raise


def _parse_at(cur: _Cursor, guess: bool) -> Header:
    buf, size, name = cur.buf, cur.size, cur.name
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
    # The smallest key/value takes 14 bytes and the smallest tensor info 24: counts past that are lies.
    if n_kv * 14 + n_tensors * 24 > size - cur.pos:
        raise cur.damaged(f"it claims {n_kv:,} keys and {n_tensors:,} tensors, more than the file can hold")
    values = _read_values(cur, n_kv, guess)
    alignment = values.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise cur.damaged(f"alignment {alignment!r}")
    tensors = _read_tensors(cur, n_tensors, alignment)
    header = Header(version, values, tuple(tensors), padded(cur.pos, alignment), size)
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
        head = handle.read(24)
        if len(head) < 24:
            if head[:4] == MAGIC:
                raise HeaderError(GGUFErrorKind.TRUNCATED,
                                  f"the GGUF file is incomplete ({len(head)} bytes): {path.name}")
            raise HeaderError(GGUFErrorKind.NOT_GGUF, f"not a GGUF model file (wrong file type): {path.name}")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            size = len(buf)  # what is mapped, even if the file changed since it was listed
            try:
                return _parse(buf, size, path.name, deadline, guess=True)
            except _Guess:
                return _parse(buf, size, path.name, deadline, guess=False)


def string_at(path: Path, array: ArrayRef, index: int, deadline: float | None = None) -> str:
    """One element of an undecoded string array (walks the lengths before it). Raises as read_header does."""
    if not 0 <= index < array.count or array.element_type != STRING:
        return ""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        cur = _Cursor(buf, len(buf), deadline, path.name)
        cur.pos = array.offset
        _skip_strings_walk(cur, index, "tokenizer.ggml.tokens")
        return cur.string(f"token {index}", limit=MAX_KEY)
