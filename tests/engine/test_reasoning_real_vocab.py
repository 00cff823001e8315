"""Thinking markers survive the engine's detokenizing (special=False) in real vocabularies.

Real replies are tokenized with the vocab-only GGUFs shipped in llama.cpp's source,
turned back into text one token at a time exactly as the engine does, and parsed.
"""

from __future__ import annotations

import codecs
import ctypes
from pathlib import Path

import pytest

from app.engine.reasoning import ReasoningParser

VOCABS = Path.home() / ".cache/hearth/llama-ref/0.3.36/src/vendor/llama.cpp/models"


def stream_pieces(vocab_file: Path, text: str) -> list[str]:
    import llama_cpp

    if not vocab_file.exists():
        pytest.skip(f"{vocab_file} is not here (llama.cpp's source is fetched by the benchmark setup)")
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(vocab_file).encode(), params)
    assert model, f"could not load {vocab_file}"
    try:
        vocab = llama_cpp.llama_model_get_vocab(model)
        data = text.encode()
        ids = (llama_cpp.llama_token * (len(data) + 8))()
        n = llama_cpp.llama_tokenize(vocab, data, len(data), ids, len(data) + 8, False, True)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buf = ctypes.create_string_buffer(256)
        pieces = []
        for token in ids[:n]:
            size = llama_cpp.llama_token_to_piece(vocab, token, buf, 256, 0, False)  # as runtime.py does
            pieces.append(decoder.decode(buf.raw[:max(size, 0)]))
        return pieces
    finally:
        llama_cpp.llama_model_free(model)


def split(pieces: list[str]) -> tuple[str, str]:
    parser = ReasoningParser()
    outs = [parser.feed(p) for p in pieces] + [parser.flush()]
    return "".join(o.reasoning for o in outs), "".join(o.answer for o in outs)


def test_qwen_think_tags_reach_the_parser():
    pieces = stream_pieces(VOCABS / "ggml-vocab-qwen35.gguf", "<think>\nThe user greets me.\n</think>\n\nHello!")
    assert split(pieces) == ("The user greets me.", "Hello!")


def test_gemma4_thought_channel_reaches_the_parser():
    pieces = stream_pieces(VOCABS / "ggml-vocab-gemma-4.gguf", "<|channel>thought\nThe user greets me.<channel|>Hello!")
    assert split(pieces) == ("The user greets me.", "Hello!")
