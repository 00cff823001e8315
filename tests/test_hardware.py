"""GPU backend detection and fit estimates (no GPU needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import hardware
from app.library.gguf_info import read_gguf_info

GIB = 1024**3


@pytest.mark.parametrize(
    "info, backend",
    [
        ("CUDA : ARCHS = 900 | USE_GRAPHS = 1 | CPU : SSE3 = 1 | AVX2 = 1 |", "cuda"),
        ("Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 |", "metal"),
        ("Vulkan : COOPMAT = 1 | CPU : AVX2 = 1 |", "vulkan"),
        ("ROCm : NO_VMM = 1 | CPU : AVX2 = 1 |", "rocm"),
        ("SYCL : ... | CPU : AVX2 = 1 |", "sycl"),
        ("CPU : SSE3 = 1 | AVX = 1 | AVX512 = 1 | OPENMP = 1 |", "none"),
    ],
)
def test_backend_is_read_from_llama_cpp_system_info(info, backend):
    assert hardware.backend_from_system_info(info) == backend


def test_this_machine_has_a_cpu_build():
    assert hardware.gpu_backend() == "none"
    assert hardware.free_vram_bytes() == 0
    assert hardware.free_ram_bytes() > 0


def test_kv_cache_size_matches_the_formula():
    # Llama-3.1-8B: 32 layers, 8 KV heads of 128 dims, f16: 128 KiB per token
    assert hardware.kv_cache_bytes(32, 8192, 4096, 32, 8, "f16") == 8192 * 128 * 1024
    assert hardware.kv_cache_bytes(32, 8192, 4096, 32, 8, "q8_0") < hardware.kv_cache_bytes(32, 8192, 4096, 32, 8)


def test_fit_uses_the_tiny_models_real_tensor_sizes(tiny_model):
    info = read_gguf_info(tiny_model)
    assert len(info.layer_bytes) == 2 and all(b > 0 for b in info.layer_bytes)
    assert sum(info.layer_bytes) + info.other_bytes <= info.size_bytes
    everything = hardware.fit_gpu_layers(info, 2048, free_vram=64 * GIB)
    assert everything.n_gpu_layers == everything.n_total == 3
    kv = hardware.kv_cache_bytes(2, 2048, 64, 4, 2)
    assert everything.kv_bytes == kv
    assert everything.gpu_bytes == sum(info.layer_bytes) + info.other_bytes + kv


def test_layers_chosen_for_given_free_memory(tiny_model):
    info = replace(read_gguf_info(tiny_model), n_layers=32, layer_bytes=(100 * 1024**2,) * 32,
                   other_bytes=500 * 1024**2, embedding_length=4096, n_head=32, n_head_kv=8)
    # each layer: 100 MiB of weights + 4096 ctx * 4 KiB of KV = 116 MiB; the budget is free VRAM
    # less 512 MiB and 5%: 1.5 GiB free -> 947 MiB -> 8 layers, 3.5 GiB free -> 2893 MiB -> 24 layers
    margin = hardware.VRAM_MARGIN_BYTES
    for free, expected in [(0, 0), (margin + 1 * GIB, 8), (margin + 3 * GIB, 24), (80 * GIB, 33)]:
        fit = hardware.fit_gpu_layers(info, 4096, free_vram=free)
        assert fit.n_gpu_layers == expected, (free, fit)
    text = hardware.describe_fit(hardware.fit_gpu_layers(info, 4096, free_vram=margin + 3 * GIB))
    assert text.startswith("24 of 33 layers on the GPU, about")
    # a smaller KV cache type fits more layers
    q8 = hardware.fit_gpu_layers(info, 4096, "q8_0", free_vram=margin + 3 * GIB)
    assert q8.n_gpu_layers > 24


@pytest.mark.parametrize(
    "size, vram, ram, verdict",
    [(4 * GIB, 24 * GIB, 16 * GIB, "full_gpu"), (20 * GIB, 8 * GIB, 32 * GIB, "partial"),
     (4 * GIB, 0, 16 * GIB, "cpu"), (60 * GIB, 8 * GIB, 16 * GIB, "too_large")],
)
def test_machine_fit_for_hub_files(size, vram, ram, verdict):
    assert hardware.machine_fit(size, free_vram=vram, free_ram=ram) == verdict
