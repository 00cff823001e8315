"""A random-weight llama model with a real vocabulary (one of llama.cpp's vocab-only GGUFs).

For measurements that depend on the vocabulary's size (bench/memory_plan.py): the weights are
random (f16), the tokenizer, its merges and its chat template are the real model's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType

VOCABS = Path.home() / ".cache" / "hearth" / "llama-ref" / "0.3.36" / "src" / "vendor" / "llama.cpp" / "models"


def write_real_vocab_model(path: Path, vocab_file: Path, *, n_embd: int = 512, n_layers: int = 8, n_head: int = 8,
                           n_head_kv: int = 4, n_ff: int = 1536, context_length: int = 32768, seed: int = 0) -> Path:
    """Write the model and return its path (tokenizer.* keys copied from `vocab_file`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = GGUFReader(str(vocab_file))
    n_vocab = len(reader.fields["tokenizer.ggml.tokens"].data)
    writer = GGUFWriter(str(path), "llama")
    writer.add_name(f"Random {vocab_file.stem} {n_embd}x{n_layers}")
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(LlamaFileType.MOSTLY_F16)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        kind = field.types[0]
        sub = field.types[1] if kind == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), kind, sub)
    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float16)

    kv_dim = n_embd // n_head * n_head_kv
    writer.add_tensor("token_embd.weight", rand(n_vocab, n_embd))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("output.weight", rand(n_vocab, n_embd))
    for i in range(n_layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", rand(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.attn_k.weight", rand(kv_dim, n_embd))
        writer.add_tensor(f"blk.{i}.attn_v.weight", rand(kv_dim, n_embd))
        writer.add_tensor(f"blk.{i}.attn_output.weight", rand(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", rand(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", rand(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", rand(n_embd, n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
