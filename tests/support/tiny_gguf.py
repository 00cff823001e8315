"""Tiny GGUF models for tests and benchmarks, written with llama.cpp's `gguf` package.

Real llama-architecture files that llama.cpp loads and runs in milliseconds:
random weights, a small SentencePiece-style vocabulary with byte fallback,
and optionally a ChatML chat template.

`scripted=True` makes a model whose reply is predictable: attention and FFN
outputs are zero, so the last hidden state is the current token's embedding,
and the output matrix maps each token to a chosen successor. After the
assistant header it says " Hello world" and then ends its turn.

`thinking=True` (with `scripted=True`) adds `<think>` and `</think>` as
user-defined tokens, as real reasoning vocabularies have them, and the reply
becomes `<think> the user chat</think> Hello world`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, LlamaFileType, TokenType

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

WORDS = ["Hello", "world", "the", "user", "assistant", "system", "chat", "model", "token", "is", "a", "and"]
CONTROL = ["<|im_start|>", "<|im_end|>"]
THINK_TOKENS = ["<think>", "</think>"]
SCRIPT = ["<0x0A>", "▁Hello", "▁world", "</s>"]
THINKING_SCRIPT = ["<0x0A>", "<think>", "▁the", "▁user", "▁chat", "</think>", "▁Hello", "▁world", "</s>"]


def build_vocab(thinking: bool = False, control: Sequence[str] = CONTROL) -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    tokens += list(control)
    types += [TokenType.CONTROL] * len(control)
    if thinking:
        tokens += THINK_TOKENS
        types += [TokenType.USER_DEFINED] * len(THINK_TOKENS)
    pieces: list[str] = ["▁"]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    chars += list("0123456789.,!?'-:;()")
    pieces += chars + ["▁" + c for c in chars]
    for word in WORDS:
        for prefix in ("", "▁"):
            full = prefix + word
            for end in range(2, len(full) + 1):
                piece = full[:end]
                if piece not in pieces:
                    pieces.append(piece)
    tokens += pieces
    types += [TokenType.NORMAL] * len(pieces)
    scores = [0.0] * (len(tokens) - len(pieces)) + [float(len(p)) - i * 1e-4 for i, p in enumerate(pieces)]
    return tokens, scores, [int(t) for t in types]


def write_tiny_model(
    path: Path,
    *,
    chat_template: str | None = CHATML,
    architecture: str = "llama",
    n_embd: int = 64,
    n_layers: int = 2,
    n_head: int = 4,
    n_head_kv: int = 2,
    n_ff: int = 128,
    context_length: int = 2048,
    scripted: bool = False,
    seed: int = 0,
    name: str = "Tiny Test Model",
    split_max_tensors: int = 0,
    thinking: bool = False,
    control_tokens: Sequence[str] = CONTROL,
    tags: Sequence[str] = (),
    finetune: str = "",
) -> Path:
    """Write a tiny model and return the path of its (first) file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tokens, scores, types = build_vocab(thinking, control_tokens)
    vocab = {t: i for i, t in enumerate(tokens)}
    n_vocab = len(tokens)
    head_dim = n_embd // n_head

    writer = GGUFWriter(str(path), architecture, split_max_tensors=split_max_tensors)
    writer.add_name(name)
    if tags:
        writer.add_tags(list(tags))
    if finetune:
        writer.add_finetune(finetune)
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    if chat_template:
        writer.add_chat_template(chat_template)

    def rand(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    embd = rng.standard_normal((n_vocab, n_embd)).astype(np.float32)
    writer.add_tensor("token_embd.weight", embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    if scripted:
        output = np.zeros((n_vocab, n_embd), dtype=np.float32)
        script = THINKING_SCRIPT if thinking else SCRIPT
        for before, after in itertools.pairwise(script):
            output[vocab[after]] = embd[vocab[before]] / np.linalg.norm(embd[vocab[before]]) * 8.0
        out_scale = 0.0
    else:
        output = rand(n_vocab, n_embd, scale=0.5)
        for stop in ("</s>", "<|im_end|>"):
            if stop in vocab:
                output[vocab[stop]] = 0.0  # random replies never end by themselves: tests choose the stop
        out_scale = 1.0
    writer.add_tensor("output.weight", output)
    kv_dim = head_dim * n_head_kv
    for i in range(n_layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", rand(n_embd, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.attn_k.weight", rand(kv_dim, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.attn_v.weight", rand(kv_dim, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.attn_output.weight", rand(n_embd, n_embd, scale=0.2) * out_scale)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", rand(n_ff, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", rand(n_ff, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", rand(n_embd, n_ff, scale=0.2) * out_scale)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if split_max_tensors:
        return path.with_name(f"{path.stem}-00001-of-{_count_shards(path):05d}.gguf")
    return path


def _count_shards(path: Path) -> int:
    return len(list(path.parent.glob(f"{path.stem}-*-of-*.gguf")))


def write_broken_models(folder: Path, good: Path) -> dict[str, Path]:
    """Files that must be refused with a clear message."""
    folder.mkdir(parents=True, exist_ok=True)
    not_gguf = folder / "not-a-model.gguf"
    not_gguf.write_text("this is a text file, not a model\n" * 10)
    truncated = folder / "truncated.gguf"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    wrong_arch = write_tiny_model(folder / "wrong-arch.gguf", architecture="notarealarch")
    empty = folder / "empty.gguf"
    empty.write_bytes(b"")
    return {"not_gguf": not_gguf, "truncated": truncated, "wrong_arch": wrong_arch, "empty": empty}
