"""The memory plan of a GGUF not downloaded yet, known only by its size and quantization (Discover).

Without the header, the shape comes from the published configuration of a common model of about the
same parameter count (the parameters are the file's bits over the quantization's bits per weight); the
file's bytes are spread over that shape's layers and the plan is made by memory_plan.plan_memory, so a
Hub file and a local one are judged by the same arithmetic. Once downloaded, the header's plan replaces it.
"""

from __future__ import annotations

import math

from app.library.gguf_info import GGUFInfo
from app.library.memory_plan import MemoryPlan, plan_memory

# bits per weight of each quantization, averaged over a whole file (llama.cpp's quantize table)
BITS_PER_WEIGHT = {
    "IQ1_S": 1.6, "IQ1_M": 1.8, "IQ2_XXS": 2.1, "IQ2_XS": 2.3, "IQ2_S": 2.5, "IQ2_M": 2.7, "Q2_K": 3.0,
    "Q2_K_S": 2.9, "IQ3_XXS": 3.1, "IQ3_XS": 3.3, "IQ3_S": 3.4, "IQ3_M": 3.7, "Q3_K_S": 3.5, "Q3_K_M": 3.9,
    "Q3_K_L": 4.3, "Q3_K_XL": 4.4, "IQ4_XS": 4.3, "IQ4_NL": 4.5, "Q4_0": 4.55, "Q4_1": 5.0, "Q4_K_S": 4.6,
    "Q4_K_M": 4.85, "Q4_K_XL": 5.0, "Q5_0": 5.5, "Q5_1": 6.0, "Q5_K_S": 5.55, "Q5_K_M": 5.7, "Q5_K_XL": 5.9,
    "Q6_K": 6.6, "Q6_K_XL": 6.8, "Q8_0": 8.5, "MXFP4": 4.25, "TQ1_0": 1.7, "TQ2_0": 2.1, "F16": 16.0,
    "BF16": 16.0, "F32": 32.0,
}
DEFAULT_BITS = 5.0  # a quantization the name does not say

# (billions of parameters, layers, width, heads, KV heads, head size, feed-forward, vocabulary, trained context)
SHAPES = (
    (0.5, 24, 896, 14, 2, 64, 4864, 151936, 32768),  # Qwen2.5-0.5B
    (1.2, 16, 2048, 32, 8, 64, 8192, 128256, 131072),  # Llama-3.2-1B
    (3.2, 28, 3072, 24, 8, 128, 8192, 128256, 131072),  # Llama-3.2-3B
    (8.0, 32, 4096, 32, 8, 128, 14336, 128256, 131072),  # Llama-3.1-8B
    (14.8, 48, 5120, 40, 8, 128, 13824, 152064, 32768),  # Qwen2.5-14B
    (32.8, 64, 5120, 40, 8, 128, 27648, 152064, 32768),  # Qwen2.5-32B
    (70.6, 80, 8192, 64, 8, 128, 28672, 128256, 131072),  # Llama-3.1-70B
)


def typical_header(size_bytes: int, quant: str = "") -> GGUFInfo:
    """A header with the shape of the common model nearest in parameters to a file of this size."""
    bits = BITS_PER_WEIGHT.get(quant.upper(), DEFAULT_BITS)
    params = max(size_bytes, 1) * 8 / bits
    billions, layers, width, heads, kv_heads, head, ffn, vocab, trained = min(
        SHAPES, key=lambda shape: abs(math.log(shape[0] * 1e9 / params)))
    other = min(int(2 * vocab * width * bits / 8), size_bytes // 3)  # embeddings and output head
    per_layer = max(size_bytes - other, 0) // layers
    return GGUFInfo(path="", name=f"a typical {billions:g}B model", architecture="llama", n_params=int(params),
                    quantization=quant, context_length=trained, n_layers=layers, embedding_length=width,
                    n_head=heads, n_head_kv=kv_heads, size_bytes=size_bytes, has_chat_template=True,
                    chat_template="", bos_token="", eos_token="", shard_paths=(), layer_bytes=(per_layer,) * layers,
                    other_bytes=size_bytes - per_layer * layers, vocab_size=vocab, feed_forward_length=ffn,
                    key_length=head, value_length=head)


def plan_for_size(size_bytes: int, n_ctx: int, quant: str = "", n_gpu_layers: int = 0,
                  kv_cache_type: str = "f16") -> MemoryPlan:
    """The memory plan of a file of this size and quantization, from the typical header."""
    return plan_memory(typical_header(size_bytes, quant), n_ctx, n_gpu_layers, kv_cache_type)
