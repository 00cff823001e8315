"""A Hub file's plan, from its size and quantization alone (library/size_plan.py), and Discover's verdict."""

from __future__ import annotations

from app import hardware
from app.library.size_plan import plan_for_size, typical_header

GIB = 1024**3


def test_the_typical_shape_follows_the_parameter_count_the_quantization_implies():
    assert typical_header(int(4.9e9), "Q4_K_M").name == "a typical 8B model"  # Llama-3.1-8B Q4_K_M is 4.9 GB
    assert typical_header(int(16e9), "F16").name == "a typical 8B model"
    assert typical_header(int(0.8e9), "Q4_K_M").name == "a typical 1.2B model"
    header = typical_header(int(4.9e9), "Q4_K_M")
    assert sum(header.layer_bytes) + header.other_bytes == int(4.9e9)  # every byte of the file is placed


def test_the_kv_cache_grows_with_the_context_and_shrinks_with_its_type():
    short, long = plan_for_size(int(4.9e9), 4096, "Q4_K_M"), plan_for_size(int(4.9e9), 32768, "Q4_K_M")
    # Llama-3.1-8B: 32 layers x 8 KV heads x 128 x (K + V) x 2 bytes = 128 KiB per token
    assert short.part("kv_cache").total == 4096 * 128 * 1024
    assert long.part("kv_cache").total == 8 * short.part("kv_cache").total
    assert plan_for_size(int(4.9e9), 32768, "Q4_K_M", kv_cache_type="q8_0").part("kv_cache").total < \
        long.part("kv_cache").total
    everything = plan_for_size(int(4.9e9), 4096, "Q4_K_M", n_gpu_layers=-1)
    assert everything.gpu_bytes > 4.5e9  # all but the token embeddings, which llama.cpp keeps on the CPU


def test_a_long_context_can_turn_a_fit_into_a_partial_one():
    size = int(4.9e9)
    assert hardware.machine_fit(size, 4096, free_vram=8 * GIB, free_ram=16 * GIB, quant="Q4_K_M") == "full_gpu"
    assert hardware.machine_fit(size, 131072, free_vram=8 * GIB, free_ram=32 * GIB, quant="Q4_K_M") == "partial"
