"""A loaded llama.cpp model, driven through llama_cpp's C API.

Runs inside the worker process only. The per-token loop is kept lean (one
llama_decode, one sampling step, one llama_token_to_piece) because the
high-level `Llama.create_completion` spends measurable time per token in
Python. Greedy replies without penalties take the argmax of the logits
directly: llama_sampler_sample would first copy the whole vocabulary into a
candidate array and scan it in a scalar loop (130 µs per token on a
49k vocabulary, against 14 µs here). Also owns the KV cache bookkeeping that lets turn N evaluate only
its new tokens.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import llama_cpp
import numpy as np

from app.engine.prompt_encoder import PromptEncoder
from app.engine.offload import resolve_gpu_layers
from app.engine.protocol import (
    ChatMessage,
    EngineError,
    ErrorKind,
    LoadOptions,
    ModelInfo,
    Stats,
    StopReason,
)
from app.engine.sampling import SamplingParams
from app.engine.stops import StopMatcher
from app.library.gguf_info import GGUFFileError, GGUFInfo, check_file, read_gguf_info, split_shards

KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}
KNOWN_ARCHITECTURES = {
    "llama", "mistral", "mistral3", "qwen2", "qwen3", "qwen2moe", "qwen3moe", "gemma", "gemma2", "gemma3",
    "gemma3n", "phi2", "phi3", "starcoder2", "falcon", "gpt2", "gptneox", "stablelm", "mpt", "bloom",
    "command-r", "cohere2", "olmo", "olmo2", "granite", "granitemoe", "deepseek", "deepseek2", "internlm2",
    "minicpm", "minicpm3", "exaone", "smollm3", "glm4", "chatglm", "baichuan", "orion", "bert", "nomic-bert",
    "t5", "jamba", "mamba", "rwkv6", "rwkv7", "arctic", "dbrx", "nemotron", "llama4", "hunyuan-moe",
    "ernie4_5", "gpt-oss", "lfm2", "seed_oss", "apertus", "granitehybrid", "plamo", "plamo2", "qwen2vl",
}

_backend_ready = False
_log_lock = threading.Lock()
_log_tail: list[str] = []


@llama_cpp.llama_log_callback
def _log_callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    # Keep the last lines so a failed load can say what llama.cpp complained about.
    if level in (2, 3):  # warnings and errors
        with _log_lock:
            _log_tail.append(text.decode("utf-8", errors="replace").strip())
            del _log_tail[:-20]


def _ensure_backend() -> None:
    global _backend_ready
    if not _backend_ready:
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        _backend_ready = True


def _last_log() -> str:
    with _log_lock:
        lines = [line for line in _log_tail if line]
        _log_tail.clear()
    return lines[-1] if lines else ""


def default_threads() -> int:
    try:
        import psutil

        return max(psutil.cpu_count(logical=False) or 1, 1)
    except Exception:
        return max((os.cpu_count() or 2) // 2, 1)


@dataclass
class Generated:
    text: str
    stats: Stats


class LoadedModel:
    """One model and one context. Not thread-safe except `tokenize` and `render`."""

    def __init__(
        self,
        options: LoadOptions,
        on_progress: Callable[[float], None] | None = None,
        gguf: GGUFInfo | None = None,
    ) -> None:
        """Load `options.path`. `gguf` is the header the caller already read, if any.

        Without it the header is read only when something needs it (fitting layers to
        free VRAM, explaining a failed load): llama.cpp reads the file anyway, and the
        facts we show come from the loaded model.
        """
        _ensure_backend()
        started = time.perf_counter()
        self._gguf = gguf
        self.options = options
        self._progress_cb = self._make_progress_callback(on_progress)
        shards = [Path(s) for s in gguf.shard_paths] if gguf is not None else split_shards(Path(options.path))
        for shard in shards if gguf is None else ():
            try:
                check_file(shard)
            except GGUFFileError as exc:
                if exc.kind == "missing_file" and len(shards) > 1:
                    exc = GGUFFileError("missing_file", f"a part of this split model is missing: {shard.name}")
                raise EngineError(ErrorKind(exc.kind), str(exc)) from exc

        mparams = llama_cpp.llama_model_default_params()
        gpu_layers = resolve_gpu_layers(self.header, options)
        mparams.n_gpu_layers = gpu_layers
        mparams.load_mode = llama_cpp.LLAMA_LOAD_MODE_MMAP if options.use_mmap else llama_cpp.LLAMA_LOAD_MODE_NONE
        mparams.progress_callback = self._progress_cb
        model = llama_cpp.llama_model_load_from_file(str(shards[0]).encode(), mparams)
        if not model:
            raise self._load_error()
        self.model = model
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        n_ctx_train = llama_cpp.llama_model_n_ctx_train(model)
        n_ctx = options.n_ctx if options.n_ctx > 0 else n_ctx_train
        notice = []
        if n_ctx_train > 0 and n_ctx > n_ctx_train:
            notice.append(f"context limited to the model's trained {n_ctx_train} tokens")
            n_ctx = n_ctx_train

        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = max(min(options.n_batch, n_ctx), 1)
        cparams.n_ubatch = cparams.n_batch
        threads = options.n_threads or default_threads()
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        kv_name = options.kv_cache_type if options.kv_cache_type in KV_TYPES else "f16"
        kv_type = KV_TYPES[kv_name]
        flash = options.flash_attn
        if kv_type != llama_cpp.GGML_TYPE_F16 and flash is None:
            flash = True  # a quantized V cache needs flash attention
        cparams.flash_attn_type = {
            None: llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO,
            True: llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
            False: llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED,
        }[flash]
        cparams.type_k = kv_type
        if flash:
            cparams.type_v = kv_type
        elif kv_type != llama_cpp.GGML_TYPE_F16:
            notice.append("the V cache stays f16 because flash attention is off")
        cparams.no_perf = True
        ctx = llama_cpp.llama_init_from_model(model, cparams)
        if not ctx:
            llama_cpp.llama_model_free(model)
            self.model = None
            detail = _last_log()
            raise EngineError(
                ErrorKind.OUT_OF_MEMORY,
                f"could not set up a {n_ctx}-token context (not enough memory?): try a smaller context size"
                + (f" — llama.cpp said: {detail}" if detail else ""),
            )
        self.ctx = ctx
        self.memory = llama_cpp.llama_get_memory(ctx)
        self.n_ctx = llama_cpp.llama_n_ctx(ctx)
        self.n_batch = cparams.n_batch
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_layers = llama_cpp.llama_model_n_layer(model)
        self._cancel = threading.Event()
        cancel = self._cancel
        self._abort_cb = llama_cpp.ggml_abort_callback(lambda _data: cancel.is_set())
        self._no_abort = llama_cpp.ggml_abort_callback()
        self._piece_buf = ctypes.create_string_buffer(256)

        if gguf is not None:
            template_text, name, arch = gguf.chat_template, gguf.display_name, gguf.architecture
        else:
            raw = llama_cpp.llama_model_chat_template(model, None)
            template_text = raw.decode("utf-8", errors="replace") if raw else ""
            name = self._meta("general.name") or Path(options.path).stem
            arch = self._meta("general.architecture")
        try:
            self.encoder = PromptEncoder(self.vocab, template_text, options.chat_template_file)
        except EngineError:
            self.close()
            raise
        self.template = self.encoder.template
        self.extra_stops = self.encoder.extra_stops
        if self.encoder.notice:
            notice.append(self.encoder.notice)

        # KV cache bookkeeping: the token ids now in the cache, and the text+tokens of the last
        # prompt plus reply, so the next turn can reuse the generated ids instead of re-tokenizing.
        self.kv_tokens: list[int] = []
        self._last: tuple[str, list[int]] = ("", [])  # one attribute: read from the count thread
        self._memo: tuple | None = None  # (messages, _last, text, tokens) of the last encode

        from app.hardware import gpu_backend

        offloaded = min(mparams.n_gpu_layers, self.n_layers + 1)
        self.info = ModelInfo(
            path=str(gguf.path if gguf is not None else options.path),
            name=name,
            architecture=arch,
            n_params=llama_cpp.llama_model_n_params(model),
            size_bytes=gguf.size_bytes if gguf is not None else sum(s.stat().st_size for s in shards),
            n_ctx=self.n_ctx,
            n_ctx_train=n_ctx_train,
            n_layers=self.n_layers,
            n_gpu_layers=offloaded if llama_cpp.llama_supports_gpu_offload() else 0,
            n_vocab=self.n_vocab,
            chat_template=self.template.origin,
            flash_attn=options.flash_attn,
            load_seconds=time.perf_counter() - started,
            gpu_backend=gpu_backend(),
            notice="; ".join(notice),
            n_threads=llama_cpp.llama_n_threads(ctx),
            n_batch=llama_cpp.llama_n_batch(ctx),
            kv_cache_type=kv_name,
            use_mmap=options.use_mmap,
            thinking_modes=self.template.thinking_modes,
        )

    # ------------------------------------------------------------ loading

    def header(self) -> GGUFInfo:
        """The file's header: the one the caller passed, else read now (once)."""
        if self._gguf is None:
            try:
                self._gguf = read_gguf_info(self.options.path)
            except GGUFFileError as exc:
                raise EngineError(ErrorKind(exc.kind), str(exc)) from exc
        return self._gguf

    def _meta(self, key: str) -> str:
        buf = ctypes.create_string_buffer(512)
        n = llama_cpp.llama_model_meta_val_str(self.model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", errors="replace") if n > 0 else ""

    @staticmethod
    def _make_progress_callback(on_progress: Callable[[float], None] | None):
        def progress(fraction: float, _data: ctypes.c_void_p) -> bool:
            if on_progress is not None:
                try:
                    on_progress(float(fraction))
                except Exception:
                    pass
            return True

        return llama_cpp.llama_progress_callback(progress)

    def _load_error(self) -> EngineError:
        detail = _last_log()
        arch = self.header().architecture  # read only now: a failed load is worth explaining
        said = f" — llama.cpp said: {detail}" if detail else ""
        if "unknown model architecture" in detail or arch not in KNOWN_ARCHITECTURES:
            return EngineError(
                ErrorKind.UNSUPPORTED,
                f"this model's architecture '{arch}' is not supported by the installed llama.cpp{said}",
            )
        if "alloc" in detail.lower() or "memory" in detail.lower():
            return EngineError(ErrorKind.OUT_OF_MEMORY, f"not enough memory to load this model{said}")
        return EngineError(ErrorKind.LOAD_FAILED, f"llama.cpp could not load this model{said}")

    def close(self) -> None:
        if getattr(self, "ctx", None):
            llama_cpp.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            llama_cpp.llama_model_free(self.model)
            self.model = None

    # ------------------------------------------------------------ tokens

    def tokenize(self, text: str, add_bos: bool, special: bool = True) -> list[int]:
        return self.encoder.tokenize(text, add_bos, special)

    def render(self, messages: Sequence[ChatMessage], thinking: str = "default") -> str:
        return self.template.render(messages, add_generation_prompt=True, thinking=thinking)

    def encode(self, messages: Sequence[ChatMessage], thinking: str = "default") -> tuple[str, list[int]]:
        """The rendered prompt and the exact token ids the model will see for it.

        Message contents are tokenized as plain text and only the template's own text with
        special-token parsing, so text a user types never becomes a control token.
        The last answer is remembered: a chat request first counts its messages for the
        overflow policy, then evaluates the same messages, and should render and
        tokenize them once.
        """
        key = (tuple(messages), thinking)
        last = self._last
        memo = self._memo
        if memo is not None and memo[0] == key and memo[1] is last:
            return memo[2], memo[3]
        segments = self.encoder.segments(key[0], thinking)
        text = "".join(segment.text for segment in segments)
        last_text, last_tokens = last
        if last_text and text.startswith(last_text):
            # Reuse the ids of the previous prompt and reply: re-tokenizing a reply need not
            # give back the ids the model generated, and those are what the KV cache holds.
            tokens = last_tokens + self.encoder.tokenize_segments(segments, len(last_text))
        else:
            text, tokens = self.encoder.encode_segments(segments)
        self._memo = (key, last, text, tokens)  # one assignment: the count thread reads it too
        return text, tokens

    def count(self, messages: Sequence[ChatMessage], thinking: str = "default") -> int:
        return len(self.encode(messages, thinking)[1])

    # ------------------------------------------------------------ generation

    def cancel(self) -> None:
        self._cancel.set()

    def _build_sampler(self, sampling: SamplingParams):
        """The llama.cpp sampler chain, or None when the reply is plain greedy (see _argmax_picker)."""
        if sampling.greedy and not self._has_penalties(sampling):
            return None
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = lambda s: llama_cpp.llama_sampler_chain_add(chain, s)  # noqa: E731
        if self._has_penalties(sampling):
            add(
                llama_cpp.llama_sampler_init_penalties(
                    self.n_vocab,
                    sampling.penalty_last_n,
                    sampling.repeat_penalty,
                    sampling.frequency_penalty,
                    sampling.presence_penalty,
                )
            )
        if sampling.greedy:
            add(llama_cpp.llama_sampler_init_greedy())
            return chain
        if sampling.top_k > 0:
            add(llama_cpp.llama_sampler_init_top_k(sampling.top_k))
        if sampling.top_p < 1.0:
            add(llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
        if sampling.min_p > 0.0:
            add(llama_cpp.llama_sampler_init_min_p(sampling.min_p, 1))
        add(llama_cpp.llama_sampler_init_temp(sampling.temperature))
        seed = sampling.seed if sampling.seed >= 0 else int.from_bytes(os.urandom(4), "little")
        add(llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
        return chain

    @staticmethod
    def _has_penalties(sampling: SamplingParams) -> bool:
        return sampling.repeat_penalty != 1.0 or bool(sampling.presence_penalty) or bool(sampling.frequency_penalty)

    def _argmax_picker(self) -> Callable[[], int]:
        """Greedy choice of the next token: the first highest logit, as llama.cpp's greedy sampler picks."""
        get_logits = llama_cpp.llama_get_logits_ith
        as_array = np.ctypeslib.as_array
        ctx, shape = self.ctx, (self.n_vocab,)

        def pick() -> int:
            return int(as_array(get_logits(ctx, -1), shape=shape).argmax())

        return pick

    def _sampler_picker(self, sampler) -> Callable[[], int]:
        sample, ctx = llama_cpp.llama_sampler_sample, self.ctx
        return lambda: sample(sampler, ctx, -1)

    def _decode(self, tokens: Sequence[int]) -> int:
        arr = (llama_cpp.llama_token * len(tokens))(*tokens)
        return llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(arr, len(tokens)))

    def _reuse_prefix(self, tokens: list[int]) -> int:
        """Keep the longest cached prefix of `tokens`; return how many are kept."""
        n = 0
        limit = min(len(self.kv_tokens), len(tokens) - 1)  # the last prompt token is always evaluated
        kv = self.kv_tokens
        while n < limit and kv[n] == tokens[n]:
            n += 1
        if n < len(kv):
            if not llama_cpp.llama_memory_seq_rm(self.memory, 0, n, -1):
                llama_cpp.llama_memory_clear(self.memory, True)
                n = 0
            del kv[n:]
        return n

    def generate(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingParams,
        on_text: Callable[[str, int], None],
        thinking: str = "default",
    ) -> Generated:
        """Evaluate the prompt (reusing the cache) and stream the reply through on_text."""
        t0 = time.perf_counter()
        text_prompt, tokens = self.encode(messages, thinking)
        return self._generate(text_prompt, tokens, sampling, on_text, t0)

    def complete(self, prompt: str, sampling: SamplingParams, on_text: Callable[[str, int], None]) -> Generated:
        """Continue a raw text prompt (no chat template), tokenized as given (BOS if the model wants one)."""
        t0 = time.perf_counter()
        tokens = self.tokenize(prompt, add_bos=self.encoder.add_bos)
        if not tokens:
            raise EngineError(ErrorKind.BAD_REQUEST, "the prompt is empty")
        return self._generate(prompt, tokens, sampling, on_text, t0)

    def _generate(self, text_prompt: str, tokens: list[int], sampling: SamplingParams,
                  on_text: Callable[[str, int], None], t0: float) -> Generated:
        self._cancel.clear()
        sampling = sampling.validated()
        n_prompt = len(tokens)
        if n_prompt >= self.n_ctx:
            raise EngineError(
                ErrorKind.CONTEXT_OVERFLOW,
                f"the conversation is {n_prompt} tokens but the context holds {self.n_ctx}: "
                "start a new chat, shorten the message, or allow older messages to be dropped",
            )
        cached = self._reuse_prefix(tokens)

        # Prompt evaluation, in batches; the abort callback lets Cancel stop a long prompt.
        llama_cpp.llama_set_abort_callback(self.ctx, self._abort_cb, None)
        try:
            pos = cached
            while pos < n_prompt:
                chunk = tokens[pos : pos + self.n_batch]
                rc = self._decode(chunk)
                if rc == 2 or self._cancel.is_set():
                    self._resync_after_abort(pos)
                    return Generated("", Stats(n_prompt, cached, 0, time.perf_counter() - t0, 0.0, 0.0,
                                               StopReason.CANCELLED, self.n_ctx))
                if rc != 0:
                    self._resync_after_abort(pos)
                    raise EngineError(ErrorKind.OUT_OF_MEMORY if rc < 0 else ErrorKind.INTERNAL,
                                      f"llama.cpp failed to evaluate the prompt (code {rc})")
                self.kv_tokens.extend(chunk)
                pos += len(chunk)
        finally:
            llama_cpp.llama_set_abort_callback(self.ctx, self._no_abort, None)
        t_prompt = time.perf_counter()

        sampler = self._build_sampler(sampling)
        try:
            return self._decode_loop(sampler, sampling, text_prompt, tokens, cached, t0, t_prompt, on_text)
        finally:
            if sampler is not None:
                llama_cpp.llama_sampler_free(sampler)

    def _resync_after_abort(self, pos: int) -> None:
        # After an aborted or failed batch the cache content past `pos` is unknown: drop it.
        if not llama_cpp.llama_memory_seq_rm(self.memory, 0, pos, -1):
            llama_cpp.llama_memory_clear(self.memory, True)
            pos = 0
        del self.kv_tokens[pos:]

    def _decode_loop(self, sampler, sampling, text_prompt, tokens, cached, t0, t_prompt, on_text) -> Generated:
        # Local names keep the per-token loop free of attribute look-ups; the one-token batch
        # is built once and points at `one`, so each step only writes the new token id.
        ctx, vocab, buf = self.ctx, self.vocab, self._piece_buf
        pick = self._argmax_picker() if sampler is None else self._sampler_picker(sampler)
        is_eog = llama_cpp.llama_vocab_is_eog
        extra_stops = self.extra_stops  # the template's end-of-turn markers
        to_piece = llama_cpp.llama_token_to_piece
        decode = llama_cpp.llama_decode
        string_at = ctypes.string_at
        clock = time.perf_counter
        cancel = self._cancel
        one = (llama_cpp.llama_token * 1)()
        batch = llama_cpp.llama_batch_get_one(one, 1)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = StopMatcher(sampling.stop)
        feed = stops.feed if sampling.stop else None
        kv = self.kv_tokens
        n_ctx = self.n_ctx
        max_tokens = sampling.max_tokens or n_ctx
        generated: list[int] = []
        pieces: list[str] = []
        reason = StopReason.EOS
        t_first = 0.0
        t_last = t_prompt
        while True:
            token = pick()
            t_last = clock()
            if not generated:
                t_first = t_last
            if is_eog(vocab, token) or token in extra_stops:
                reason = StopReason.EOS
                break
            generated.append(token)
            n = to_piece(vocab, token, buf, 256, 0, False)
            if n > 0:
                text = decoder.decode(string_at(buf, n))
                if feed is not None and text:
                    text, hit = feed(text)
                    if hit:
                        if text:
                            pieces.append(text)
                            on_text(text, len(generated))
                        reason = StopReason.STOP
                        break
                if text:
                    pieces.append(text)
                    on_text(text, len(generated))
            if len(generated) >= max_tokens:
                reason = StopReason.LENGTH
                break
            if cancel.is_set():
                reason = StopReason.CANCELLED
                break
            if len(kv) >= n_ctx:
                reason = StopReason.CONTEXT_FULL
                break
            one[0] = token
            rc = decode(ctx, batch)
            if rc != 0:
                reason = StopReason.CONTEXT_FULL if rc == 1 else StopReason.ERROR
                break
            kv.append(token)
        tail = decoder.decode(b"", final=True) + (stops.flush() if reason != StopReason.STOP else "")
        if tail:
            pieces.append(tail)
            on_text(tail, len(generated))
        reply = "".join(pieces)
        if reason in (StopReason.EOS, StopReason.LENGTH, StopReason.CONTEXT_FULL, StopReason.CANCELLED):
            self._last = (text_prompt + reply, list(tokens) + generated)
        else:
            self._last = ("", [])
        n_new = len(tokens) - cached
        prompt_s = t_prompt - t0
        decode_s = t_last - t_first
        stats = Stats(
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=len(generated),
            ttft_s=(t_first - t0) if t_first else prompt_s,
            prompt_tok_s=n_new / prompt_s if prompt_s > 0 else 0.0,
            decode_tok_s=(len(generated) - 1) / decode_s if decode_s > 0 and len(generated) > 1 else 0.0,
            stop_reason=reason,
            n_ctx=n_ctx,
        )
        return Generated(reply, stats)
