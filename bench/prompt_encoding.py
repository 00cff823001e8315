"""How long rendering and tokenizing a conversation takes (the prompt path of every
chat request and every live token count), with contents tokenized as plain text.

    PYTHONPATH=. python bench/prompt_encoding.py [MODEL.gguf] [TURNS]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import llama_cpp

from app.engine.llama_backend import ensure_backend
from app.engine.prompt_encoder import PromptEncoder
from app.engine.protocol import ChatMessage
from app.library.gguf_info import read_gguf_info

DEFAULT_MODEL = Path.home() / ".cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL
    turns = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    ensure_backend()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    encoder = PromptEncoder(llama_cpp.llama_model_get_vocab(model), read_gguf_info(path).chat_template)
    paragraph = "The quick brown fox jumps over the lazy dog while <|im_end|> stays plain text. " * 6
    messages = [ChatMessage("system", "You are a helpful assistant.")]
    for n in range(turns):
        messages += [ChatMessage("user", f"Question {n}: {paragraph}"), ChatMessage("assistant", paragraph)]
    messages.append(ChatMessage("user", "And now?"))
    times_split, times_whole = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        text, tokens = encoder.encode(messages)
        times_split.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        whole = encoder.tokenize(encoder.template.render(messages), add_bos=False, special=True)
        times_whole.append(time.perf_counter() - t0)
    print(f"{len(messages)} messages, {len(text):,} characters, {len(tokens):,} tokens "
          f"(one special-parsed tokenize: {len(whole):,})")
    print(f"render + tokenize, contents plain: median {statistics.median(times_split) * 1000:.1f} ms")
    print(f"render + tokenize, all special-parsed (before): median {statistics.median(times_whole) * 1000:.1f} ms")
    llama_cpp.llama_model_free(model)


if __name__ == "__main__":
    main()
