"""A tiny GGUF model whose greedy reply is an exact text, for tool-call parity tests.

Like tiny_gguf's scripted models, attention and feed-forward outputs are zero, so the
last hidden state is the current token's embedding, and the output table maps each token
to the next one of the script. Each piece of the reply is one user-defined token (so a
reply may repeat characters and still be a chain of distinct tokens), the template's
markers are control tokens, and the chain starts at the prompt's last token: the model
is written once, the prompt tokenized with it, and written again with that start.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, LlamaFileType, TokenType

N_EMBD = 64


def _vocab(control: Sequence[str], pieces: Sequence[str]) -> tuple[list[str], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.BYTE] * 256
    for text in control:
        if text not in tokens:  # control tokens as real vocabularies have them, also those a reply writes
            tokens.append(text)
            types.append(TokenType.CONTROL)
    for text in pieces:
        if text not in tokens:
            tokens.append(text)
            types.append(TokenType.USER_DEFINED)
    plain = ["▁"] + [chr(c) for c in range(33, 127)] + ["▁" + chr(c) for c in range(33, 127)]
    for text in plain:
        if text not in tokens:
            tokens.append(text)
            types.append(TokenType.NORMAL)
    return tokens, [int(t) for t in types]


def _write(path: Path, template: str, tokens: list[str], types: list[int], chains: Sequence[Sequence[int]]) -> None:
    rng = np.random.default_rng(0)
    n_vocab = len(tokens)
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("Reply Tiny")
    writer.add_context_length(8192)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(1)
    writer.add_feed_forward_length(128)
    writer.add_head_count(4)
    writer.add_head_count_kv(4)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(N_EMBD // 4)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n_vocab)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template(template)
    embd = rng.standard_normal((n_vocab, N_EMBD)).astype(np.float32)
    output = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    for chain in chains:
        for before, after in itertools.pairwise(chain):
            output[after] += embd[before] / np.linalg.norm(embd[before]) * 8.0  # the end token: many befores
    writer.add_tensor("token_embd.weight", embd)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    zeros = np.zeros((N_EMBD, N_EMBD), dtype=np.float32)
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        writer.add_tensor(f"blk.0.{name}.weight", zeros if name == "attn_output" else rng.standard_normal(
            (N_EMBD, N_EMBD)).astype(np.float32) * 0.1)
    writer.add_tensor("blk.0.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("blk.0.ffn_gate.weight", np.zeros((128, N_EMBD), dtype=np.float32))
    writer.add_tensor("blk.0.ffn_up.weight", np.zeros((128, N_EMBD), dtype=np.float32))
    writer.add_tensor("blk.0.ffn_down.weight", np.zeros((N_EMBD, 128), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_reply_model(path: Path, template: str, control: Sequence[str], reply: Sequence[str],
                      prompt: str) -> Path:
    """A model that answers `prompt` (the rendered chat prompt) with the pieces of `reply`, then ends."""
    return write_replies_model(path, template, control, [(prompt, reply)])


def write_replies_model(path: Path, template: str, control: Sequence[str],
                        replies: Sequence[tuple[str, Sequence[str]]]) -> Path:
    """A model with one reply per prompt: each prompt must end in a token of its own."""
    import llama_cpp

    tokens, types = _vocab(control, [piece for _, reply in replies for piece in reply])
    ids = {text: i for i, text in enumerate(tokens)}
    _write(path, template, tokens, types, [])
    vocab_only = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    try:
        lasts = [vocab_only.tokenize(prompt.encode(), add_bos=False, special=True)[-1] for prompt, _ in replies]
    finally:
        vocab_only.close()
    if len(set(lasts)) != len(lasts):
        raise ValueError("two prompts end in the same token: the model could not tell them apart")
    _write(path, template, tokens, types,
           [[last, *(ids[p] for p in reply), 2] for last, (_, reply) in zip(lasts, replies)])
    return path
