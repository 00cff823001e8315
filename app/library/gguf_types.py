"""What a GGUF header holds: value types, ggml tensor types, llama.cpp's own limits, the parsed header.

The limits mirror llama.cpp's reader (ggml/src/gguf.cpp), so a file Hearth lists
is a file llama.cpp would open, and a hostile header ends where llama.cpp ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STRING, ARRAY, UINT32 = 8, 9, 4
SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

MAX_STRING = 1 << 30  # GGUF_MAX_STRING_LENGTH: no string in a header is longer
MAX_ARRAY = 1 << 30  # GGUF_MAX_ARRAY_ELEMENTS: no array in a header is longer
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_TENSOR_NAME = 63  # GGML_MAX_NAME is 64 bytes with the terminating NUL
INT64_MAX = (1 << 63) - 1
DEFAULT_ALIGNMENT = 32

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


def padded(n: int, alignment: int) -> int:
    """n rounded up to a multiple of alignment (a power of two)."""
    return -(-n // alignment) * alignment


@dataclass(frozen=True)
class ArrayRef:
    """An array left undecoded: where its elements start and how many there are."""

    element_type: int
    count: int
    offset: int


@dataclass(frozen=True)
class StringRef:
    """A string value too long to decode (an embedded tokenizer.json): its length and where it starts."""

    length: int
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
    values: dict[str, Any]  # scalars, strings, small arrays as lists, large ones as ArrayRef or StringRef
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    file_size: int
