"""A tiny vision model for tests: the tiny llama text model plus a random-weight LLaVA-style
("mlp") projector that libmtmd loads, written with gguf-py.

The projector is a 2-layer ViT over 32x32 images in 8x8 patches (16 image tokens per image) and
a two-layer MLP into the text model's 64-wide embeddings. llama.cpp's clip.cpp reads exactly these
keys and tensor names (tools/mtmd/clip-impl.h); nothing here comes from the Hub.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter, LlamaFileType

from tests.support.tiny_gguf import write_tiny_model

IMAGE_SIZE = 32
PATCH_SIZE = 8
IMAGE_TOKENS = (IMAGE_SIZE // PATCH_SIZE) ** 2  # one image, as libmtmd counts it for this projector


def write_tiny_projector(path: Path, *, text_embd: int = 64, n_embd: int = 32, n_layers: int = 2,
                         n_head: int = 2, n_ff: int = 48, seed: int = 1,
                         name: str = "Tiny Test Projector") -> Path:
    """Write an mmproj GGUF for a text model with `text_embd`-wide embeddings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def rand(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = GGUFWriter(str(path), "clip")
    writer.add_type("mmproj")
    writer.add_name(name)
    writer.add_file_type(LlamaFileType.ALL_F32)
    writer.add_bool("clip.has_vision_encoder", True)
    writer.add_string("clip.projector_type", "mlp")
    writer.add_uint32("clip.vision.embedding_length", n_embd)
    writer.add_uint32("clip.vision.feed_forward_length", n_ff)
    writer.add_uint32("clip.vision.block_count", n_layers)
    writer.add_uint32("clip.vision.projection_dim", text_embd)
    writer.add_uint32("clip.vision.attention.head_count", n_head)
    writer.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    writer.add_uint32("clip.vision.image_size", IMAGE_SIZE)
    writer.add_uint32("clip.vision.patch_size", PATCH_SIZE)
    writer.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    writer.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    writer.add_bool("clip.use_gelu", True)

    n_pos = IMAGE_TOKENS
    writer.add_tensor("v.patch_embd.weight", rand(n_embd, 3, PATCH_SIZE, PATCH_SIZE))
    writer.add_tensor("v.patch_embd.bias", rand(n_embd))
    writer.add_tensor("v.position_embd.weight", rand(n_pos, n_embd))
    writer.add_tensor("v.pre_ln.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("v.pre_ln.bias", np.zeros(n_embd, dtype=np.float32))
    for i in range(n_layers):
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            writer.add_tensor(f"v.blk.{i}.{name}.weight", rand(n_embd, n_embd))
            writer.add_tensor(f"v.blk.{i}.{name}.bias", rand(n_embd, scale=0.02))
        for norm in ("ln1", "ln2"):
            writer.add_tensor(f"v.blk.{i}.{norm}.weight", np.ones(n_embd, dtype=np.float32))
            writer.add_tensor(f"v.blk.{i}.{norm}.bias", np.zeros(n_embd, dtype=np.float32))
        writer.add_tensor(f"v.blk.{i}.ffn_up.weight", rand(n_ff, n_embd))
        writer.add_tensor(f"v.blk.{i}.ffn_up.bias", rand(n_ff, scale=0.02))
        writer.add_tensor(f"v.blk.{i}.ffn_down.weight", rand(n_embd, n_ff))
        writer.add_tensor(f"v.blk.{i}.ffn_down.bias", rand(n_embd, scale=0.02))
    writer.add_tensor("mm.0.weight", rand(text_embd, n_embd, scale=0.5))
    writer.add_tensor("mm.0.bias", rand(text_embd, scale=0.02))
    writer.add_tensor("mm.2.weight", rand(text_embd, text_embd, scale=0.5))
    writer.add_tensor("mm.2.bias", rand(text_embd, scale=0.02))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_tiny_vision_pair(folder: Path) -> tuple[Path, Path]:
    """The tiny text model and its projector side by side, as a vision model's repository ships them."""
    model = write_tiny_model(folder / "tiny-vision-Q8.gguf", name="Tiny Vision Model")
    projector = write_tiny_projector(folder / "mmproj-tiny-vision-f32.gguf")
    return model, projector


def png_bytes(width: int = 24, height: int = 20, seed: int = 3) -> bytes:
    """A small PNG with random pixels (written with zlib only: no imaging library needed)."""
    import struct
    import zlib

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def webp_bytes(width: int = 24, height: int = 20) -> bytes:
    """The start of an extended WebP file (its VP8X header): enough for the header check, which is all a
    WebP meets before it is refused or converted."""
    chunk = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + (4 + 8 + len(chunk)).to_bytes(4, "little") + b"WEBPVP8X" + len(chunk).to_bytes(4, "little") + chunk
