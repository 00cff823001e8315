"""How much memory a model will take, per component and per device, from its GGUF header alone.

The figures follow what this llama.cpp allocates (checked against its own buffer sizes and the
engine process's resident memory by bench/memory_plan.py, docs/BENCHMARKS.md):

- weights: the tensors' bytes, per repeating block; with K layers offloaded the last K blocks go
  to the GPU (and the output head once every block is there), the rest stay mapped on the CPU;
- repacked weights: on the CPU, llama.cpp copies the matrices of some types (Q4_0, Q4_K, IQ4_NL...:
  gguf_info.is_repacked) into a faster layout (its CPU_REPACK buffer), beside the mapped file, which
  stays resident as well: a second copy of those weights;
- KV cache: per layer, n_head_kv x (key_length + value_length) x context x the cache type's bytes
  (Hearth leaves llama.cpp's full-size sliding-window cache on, so Gemma-style SWA layers are full
  size too); the V cache stays f16 without flash attention, as the engine does (load_params.py);
- compute buffers: without flash attention the attention scores (n_head x context x batch, f32)
  and one mask per attention kind (two for sliding-window models); with it only the masks, in
  f16; plus the batch's activations (feed-forward and embedding widths);
- the output buffer (one row of logits: Hearth asks for one output), llama.cpp's own tables
  (about 116 bytes per vocabulary entry and 140 per BPE merge, 12.5 MiB fixed) and the engine process itself;
- a vision model's image projector, on the GPU or the CPU as the load settings say (libmtmd's
  use_gpu): its weights, and the encoder's working memory for one picture (reserved on the first
  picture: one layer's activations at the encoder's size, with the flash attention libmtmd picks
  where it works: an estimate from the header, not yet checked against a real projector's buffers).

Compute buffers are reserved at load but become resident only while a long prompt is read near a
full context: `resident_bytes` is what the process holds once loaded, `peak_bytes` adds them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.library.gguf_info import GGUFInfo

MIB = 1024**2
ENGINE_PROCESS_BYTES = 45 * MIB  # Hearth's engine process with llama.cpp imported, before any model
LLAMA_FIXED_BYTES = int(12.5 * MIB)  # llama.cpp's own pages and tables touched by any load
VOCAB_BYTES_PER_TOKEN = 116  # the vocabulary's maps and strings, per entry
MERGE_BYTES = 140  # a BPE merge in llama.cpp's map of merge ranks (~20 MiB for Qwen2's 151,387)
KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
CONTEXT_PAD = 256  # llama.cpp rounds the context up to a multiple of this


@dataclass(frozen=True)
class Part:
    """One component: bytes on the CPU (system memory) and on the GPU."""

    name: str
    cpu: int
    gpu: int = 0
    reserved_only: bool = False  # reserved at load, resident only under a full-context prompt

    @property
    def total(self) -> int:
        return self.cpu + self.gpu


@dataclass(frozen=True)
class MemoryPlan:
    n_ctx: int
    n_gpu_layers: int  # 0..n_layers + 1 (n_layers + 1: the output head too)
    kv_cache_type: str
    flash_attn: bool
    parts: tuple[Part, ...]
    sequences: int = 1  # requests decoded together, each with the whole context (with_sequences)

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    @property
    def resident_bytes(self) -> int:
        """System memory (RAM) the engine process holds once the model is loaded."""
        return sum(p.cpu for p in self.parts if not p.reserved_only)

    @property
    def peak_cpu_bytes(self) -> int:
        """RAM at most: with the compute buffers in use."""
        return sum(p.cpu for p in self.parts)

    @property
    def gpu_bytes(self) -> int:
        return sum(p.gpu for p in self.parts)

    @property
    def peak_bytes(self) -> int:
        return self.peak_cpu_bytes + self.gpu_bytes

    def as_dict(self) -> dict[str, object]:
        return {
            "n_ctx": self.n_ctx, "n_gpu_layers": self.n_gpu_layers, "kv_cache_type": self.kv_cache_type,
            "flash_attn": self.flash_attn, "sequences": self.sequences,
            "parts": {p.name: {"cpu_bytes": p.cpu, "gpu_bytes": p.gpu, "reserved_only": p.reserved_only}
                      for p in self.parts},
            "resident_bytes": self.resident_bytes, "peak_cpu_bytes": self.peak_cpu_bytes,
            "gpu_bytes": self.gpu_bytes, "peak_bytes": self.peak_bytes,
        }


def effective_context(info: GGUFInfo, n_ctx: int) -> int:
    """The context the engine will use: the trained one for 0, never more than it (as runtime.py does)."""
    trained = info.context_length
    if n_ctx <= 0 or (trained > 0 and n_ctx > trained):
        n_ctx = trained or 4096
    return n_ctx


def uses_flash_attention(flash_attn: bool | None, kv_cache_type: str, cpu_only: bool) -> bool:
    """The engine's choice (load_params.context_params); llama.cpp's automatic one on a GPU is taken as on."""
    if flash_attn is not None:
        return flash_attn
    return kv_cache_type != "f16" or not cpu_only


def projector_parts(projector: GGUFInfo, on_gpu: bool) -> tuple[Part, Part]:
    """An image projector's weights, and its encoder's working memory for one picture (reserved when
    the first picture is read)."""
    weights = sum(projector.layer_bytes) + projector.other_bytes or projector.size_bytes
    working = projector.image_patches * (2 * projector.vision_ffn + 6 * projector.vision_width) * 4
    if on_gpu:
        return Part("projector", 0, weights), Part("projector_compute", 0, working, reserved_only=True)
    return Part("projector", weights), Part("projector_compute", working, reserved_only=True)


def plan_memory(info: GGUFInfo, n_ctx: int, n_gpu_layers: int = 0, kv_cache_type: str = "f16",
                flash_attn: bool | None = None, n_batch: int = 512, projector: GGUFInfo | None = None,
                projector_gpu: bool = False) -> MemoryPlan:
    """The memory plan for loading this model with these settings (n_gpu_layers -1: all of them); with
    `projector` (a vision model's), its part too, on the GPU when `projector_gpu` (and a GPU is there)."""
    n_ctx = effective_context(info, n_ctx)
    cells = -(-n_ctx // CONTEXT_PAD) * CONTEXT_PAD
    n_layers = max(info.n_layers, 1)
    gpu_layers = n_layers + 1 if n_gpu_layers < 0 else min(n_gpu_layers, n_layers + 1)
    on_gpu = min(gpu_layers, n_layers)
    flash = uses_flash_attention(flash_attn, kv_cache_type, gpu_layers == 0)
    ubatch = max(min(n_batch, n_ctx), 1)

    layers = list(info.layer_bytes) or [max(info.size_bytes - info.other_bytes, 0) // n_layers] * n_layers
    gpu_weights = sum(layers[len(layers) - on_gpu:]) if on_gpu else 0
    output_head = info.other_bytes // 2 if gpu_layers > n_layers else 0  # embeddings stay; the head moves
    weights = Part("weights", sum(layers) + info.other_bytes - gpu_weights - output_head, gpu_weights + output_head)

    head = info.embedding_length // max(info.n_head, 1)
    k_width = info.n_head_kv * (info.key_length or head)
    v_width = info.n_head_kv * (info.value_length or head)
    k_type = KV_BYTES_PER_ELEMENT.get(kv_cache_type, 2.0)
    v_type = k_type if flash else 2.0
    kv_total = int(cells * n_layers * (k_width * k_type + v_width * v_type))
    kv_gpu = kv_total * on_gpu // n_layers
    kv = Part("kv_cache", kv_total - kv_gpu, kv_gpu)

    repack_layers = list(info.repack_layer_bytes)
    repacked = sum(repack_layers[:max(len(repack_layers) - on_gpu, 0)])
    repack = Part("repack", repacked + (info.repack_other_bytes if gpu_layers <= n_layers else 0))

    masks = 2 if info.sliding_window > 0 else 1
    activations = ubatch * 4 * (2 * info.feed_forward_length + info.embedding_length) * (2 if flash else 1)
    # without flash attention: the scores (f32) and the masks (f32); with it only the masks (f16)
    attention = masks * cells * ubatch * 2 if flash else (info.n_head + masks) * cells * ubatch * 4
    compute_bytes = int(attention + activations)
    compute = Part("compute", 0 if gpu_layers else compute_bytes, compute_bytes if gpu_layers else 0,
                   reserved_only=True)

    vocab = info.vocab_size
    output = Part("output", vocab * 4)
    runtime = Part("llama_cpp", LLAMA_FIXED_BYTES + vocab * VOCAB_BYTES_PER_TOKEN + info.n_merges * MERGE_BYTES)
    engine = Part("engine_process", ENGINE_PROCESS_BYTES)
    parts: tuple[Part, ...] = (weights, repack, kv, compute, output, runtime, engine)
    if projector is not None:
        parts += projector_parts(projector, projector_gpu)
    return MemoryPlan(n_ctx, gpu_layers, kv_cache_type, flash, parts)


def with_sequences(plan: MemoryPlan, sequences: int) -> MemoryPlan:
    """`plan` for `sequences` requests decoded together, each with the whole context (as the app loads its
    model while its API server runs: engine/batch_params.shared_options): a KV cache and an output row each."""
    if sequences <= 1:
        return plan
    parts = tuple(replace(part, cpu=part.cpu * sequences, gpu=part.gpu * sequences)
                  if part.name in ("kv_cache", "output") else part for part in plan.parts)
    return replace(plan, parts=parts, sequences=sequences)


PART_WORDS = {"weights": "Weights", "repack": "Repacked weights (CPU)",
              "kv_cache": "KV cache", "compute": "Compute buffers", "output": "Output buffer",
              "llama_cpp": "llama.cpp and vocabulary", "engine_process": "Engine process",
              "projector": "Image projector", "projector_compute": "Projector working memory"}


def out_of_memory_advice(plan: MemoryPlan, free_ram: int, free_vram: int = 0, always: bool = False) -> str:
    """ "needs about X, Y free" and what to change, for a load that will not fit ("" when it fits, unless
    `always`: llama.cpp has said it ran out)."""
    from app.formatting import human_bytes

    fits = plan.peak_cpu_bytes <= free_ram and plan.gpu_bytes <= max(free_vram, 0)
    if fits and not always:
        return ""
    gpu_short = plan.gpu_bytes > 0 and (plan.gpu_bytes > free_vram or fits)
    need, free = (plan.gpu_bytes, free_vram) if gpu_short else (plan.peak_cpu_bytes, free_ram)
    where = "GPU memory" if gpu_short else "memory"
    kv = plan.part("kv_cache").total
    steps = [f"a smaller context (the KV cache is {human_bytes(kv)} at {plan.n_ctx:,} tokens)"]
    if plan.kv_cache_type == "f16":
        steps.append("a q8_0 KV cache (about half)")
    if gpu_short:
        steps.append("fewer GPU layers")
    return f"needs about {human_bytes(need)} of {where}, {human_bytes(free)} free: try " + ", or ".join(steps)
