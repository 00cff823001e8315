"""Images in a prompt, through llama.cpp's libmtmd (the projector, or "mmproj", beside a model).

A prompt with images stays a list of ints so that the runtime's KV-cache reuse, counting and
context fitting work unchanged: each token of an image is a negative id, unique to that image's
bytes and its place in the image, and text is tokenized by the PromptEncoder exactly as for a
text-only prompt, with the prompt cut where each image goes (as llama-server cuts it). So the
meter's count is the number of positions the engine evaluates, image tokens included, and a chat
that adds a turn after an image reuses the cache up to its new text.

The encoder's text runs and libmtmd's image chunks are evaluated in order by `evaluate`; an image
chunk is evaluated whole (libmtmd encodes the picture, then decodes its embeddings in batches).

Threading: `image_tokens` may run on the count thread while the main thread evaluates; libmtmd's
context is not safe to share, so every call into it holds one lock.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp
import llama_cpp.mtmd_cpp as mtmd

from app.engine import llama_backend
from app.engine.chat_template import Segment
from app.engine.llama_backend import last_log
from app.engine.prompt_encoder import PromptEncoder
from app.engine.protocol import AUTO_PROJECTOR, IMAGE_MARKER, NO_VISION, ChatMessage, EngineError, ErrorKind
from app.image_header import ImageError, check_model_reads, read_header

KEPT_IMAGES = 32  # images whose chunks stay tokenized (a chat's images are counted on every keystroke)
_SPAN = 1 << 20  # sentinel ids per image chunk: more than any image's tokens


def has_images(messages: Sequence[ChatMessage]) -> bool:
    return any(m.images for m in messages)


@dataclass
class _Tokenized:
    chunks: Any  # mtmd_input_chunks_p, owned here
    tokens: list[int]  # text ids and image sentinels, in order


class Vision:
    """One projector loaded beside one model (main thread loads and closes it)."""

    def __init__(self, path: str, model: Any, use_gpu: bool, n_threads: int) -> None:
        if not Path(path).is_file():
            raise EngineError(ErrorKind.MISSING_FILE, f"the image projector is missing: {path}")
        # libmtmd logs apart from llama.cpp: route it the same way (kept for errors, not printed)
        mtmd.mtmd_log_set(llama_backend._log_callback, ctypes.c_void_p(0))
        mtmd.mtmd_helper_log_set(llama_backend._log_callback, ctypes.c_void_p(0))
        params = mtmd.mtmd_context_params_default()
        params.use_gpu = use_gpu
        params.print_timings = False
        params.n_threads = max(1, n_threads)
        params.media_marker = IMAGE_MARKER.encode()
        params.warmup = False
        ctx = mtmd.mtmd_init_from_file(str(path).encode(), model, params)
        if not ctx:
            why = last_log() or "llama.cpp refused it"
            raise EngineError(ErrorKind.LOAD_FAILED, f"could not load the image projector {Path(path).name}: {why}")
        if not mtmd.mtmd_support_vision(ctx):
            mtmd.mtmd_free(ctx)
            raise EngineError(ErrorKind.UNSUPPORTED, f"{Path(path).name} is not an image projector")
        self.ctx: Any = ctx
        self.path = path
        self._lock = threading.Lock()
        self._images: OrderedDict[bytes, _Tokenized] = OrderedDict()
        self._starts: dict[int, Any] = {}  # first sentinel of an image chunk -> the chunk

    def close(self) -> None:
        with self._lock:
            for tokenized in self._images.values():
                mtmd.mtmd_input_chunks_free(tokenized.chunks)
            self._images.clear()
            self._starts.clear()
            if self.ctx:
                mtmd.mtmd_free(self.ctx)
                self.ctx = None

    # ------------------------------------------------------------ tokens

    def image_tokens(self, data: bytes) -> list[int]:
        """The ids one image takes in the prompt: text ids libmtmd adds around it and its sentinels."""
        digest = hashlib.sha256(data).digest()
        with self._lock:
            known = self._images.get(digest)
            if known is not None:
                self._images.move_to_end(digest)
                return known.tokens
            tokenized = self._tokenize(data, digest)
            self._images[digest] = tokenized
            while len(self._images) > KEPT_IMAGES:
                _, old = self._images.popitem(last=False)
                self._forget(old)
            return tokenized.tokens

    def _tokenize(self, data: bytes, digest: bytes) -> _Tokenized:
        try:
            check_model_reads(read_header(data).mime)  # size from the header before anything is decoded
        except ImageError as exc:
            raise EngineError(ErrorKind.BAD_REQUEST, str(exc)) from exc
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        bitmap = mtmd.mtmd_helper_bitmap_init_from_buf(self.ctx, buf, len(data), False)
        if not bitmap:
            raise EngineError(ErrorKind.BAD_REQUEST, "The image is damaged or not a picture llama.cpp can read.")
        chunks = mtmd.mtmd_input_chunks_init()
        try:
            text = mtmd.mtmd_input_text()
            marker = IMAGE_MARKER.encode()
            text.text, text.text_len, text.add_special, text.parse_special = marker, len(marker), False, True
            bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
            rc = mtmd.mtmd_tokenize(self.ctx, chunks, ctypes.byref(text), bitmaps, 1)
            if rc != 0:
                raise EngineError(ErrorKind.BAD_REQUEST, f"The image could not be prepared for the model (code {rc}).")
            tokens = self._chunk_tokens(chunks, digest)
        except BaseException:
            mtmd.mtmd_input_chunks_free(chunks)
            raise
        finally:
            mtmd.mtmd_bitmap_free(bitmap)
        return _Tokenized(chunks, tokens)

    def _chunk_tokens(self, chunks: Any, digest: bytes) -> list[int]:
        tokens: list[int] = []
        base = int.from_bytes(digest[:5], "little") << 6
        for i in range(mtmd.mtmd_input_chunks_size(chunks)):
            chunk = mtmd.mtmd_input_chunks_get(chunks, i)
            if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT:
                n = ctypes.c_size_t()
                ids = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(n))
                tokens += [int(ids[j]) for j in range(n.value)]
                continue
            start = -((base + i) * _SPAN + 1)
            n_tokens = int(mtmd.mtmd_input_chunk_get_n_tokens(chunk))
            tokens += range(start, start - n_tokens, -1)
            self._starts[start] = chunk
        return tokens

    def _forget(self, tokenized: _Tokenized) -> None:
        ids = set(tokenized.tokens)
        for start in [s for s in self._starts if s in ids]:
            del self._starts[start]
        mtmd.mtmd_input_chunks_free(tokenized.chunks)

    def encode(self, encoder: PromptEncoder, segments: Sequence[Segment], images: Sequence[bytes],
               add_bos: bool) -> list[int]:
        """The whole prompt's ids: the encoder's text cut at each image marker, the image's ids between."""
        tokens: list[int] = [llama_cpp.llama_vocab_bos(encoder.vocab)] if add_bos else []
        pending = list(images)
        for fragment in encoder.fragments(segments):
            if isinstance(fragment, int):
                tokens.append(fragment)
                continue
            pieces = fragment.split(IMAGE_MARKER)
            for n, piece in enumerate(pieces):
                if n:
                    if not pending:
                        raise EngineError(ErrorKind.BAD_REQUEST, "the chat names more images than it holds")
                    tokens += self.image_tokens(pending.pop(0))
                if piece:
                    tokens += encoder.run_tokens(piece)
        if pending:
            raise EngineError(ErrorKind.BAD_REQUEST, "the chat template left out an image")
        return tokens

    # ------------------------------------------------------------ evaluation

    def evaluate(self, lctx: Any, tokens: list[int], pos: int, n_batch: int,
                 resync: Callable[[int], None]) -> int:
        """Evaluate the image chunk whose first sentinel is tokens[pos]; return the position after it.

        Returns -1 if llama.cpp's abort callback stopped it, after `resync(pos)` (the runtime drops
        what the cache may hold past `pos`), which runs before an EngineError too.
        """
        with self._lock:
            chunk = self._starts.get(tokens[pos])
            if chunk is None:
                raise EngineError(ErrorKind.INTERNAL, "an image in this prompt is no longer prepared; send it again")
            n_tokens = int(mtmd.mtmd_input_chunk_get_n_tokens(chunk))
            new_n_past = llama_cpp.llama_pos(0)
            rc = mtmd.mtmd_helper_eval_chunk_single(self.ctx, lctx, chunk, pos, 0, n_batch, False,
                                                     ctypes.byref(new_n_past))
        if rc != 0:
            resync(pos)
        if rc == 2:
            return -1
        if rc != 0:
            raise EngineError(ErrorKind.INTERNAL, f"llama.cpp failed to read the image (code {rc})")
        return pos + n_tokens


def image_run_end(tokens: Sequence[int], pos: int, end: int) -> int:
    """Where the run of text ids starting at `pos` ends: at `end` or at the next image sentinel."""
    for i in range(pos, end):
        if tokens[i] < 0:
            return i
    return end


def load_vision(options: Any, model: Any, n_threads: int, cpu_only: bool) -> Vision | None:
    """The projector named in a model's LoadOptions, or None for a text-only load."""
    path = options.mmproj
    if path == AUTO_PROJECTOR:  # (the app's loads: pairing reads headers, so it happens here, off the GUI)
        from app.library.projector import pair_projector

        found = pair_projector(options.path)
        path = str(found) if found else ""
    if not path:
        return None
    return Vision(path, model, options.mmproj_gpu and not cpu_only, n_threads)


def encode_prompt(vision: Vision | None, encoder: PromptEncoder, segments: Sequence[Segment],
                  messages: Sequence[ChatMessage]) -> tuple[str, list[int]]:
    """The prompt text and ids of a chat with images; a model without a projector refuses it plainly."""
    if vision is None:
        raise EngineError(ErrorKind.BAD_REQUEST, NO_VISION)
    text = "".join(segment.text for segment in segments)
    bos = encoder.template.bos_token
    add_bos = encoder.add_bos and not (bos and text.startswith(bos))
    images = [image for message in messages for image in message.images]
    return text, vision.encode(encoder, segments, images, add_bos)
