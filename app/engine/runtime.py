"""A loaded llama.cpp model, driven through llama_cpp's C API.

Runs inside the worker process only. The per-token loop (decode_loop.py) is kept
lean (one llama_decode, one sampling step, one llama_token_to_piece) because the
high-level `Llama.create_completion` spends measurable time per token in Python.
Also owns the KV cache bookkeeping that lets turn N evaluate only its new tokens.

Threading rule: a LoadedModel is driven by the engine's main thread. Other threads
may call only `tokenize`, `render`, `count_tokens` and `cancel`: they read the
encoder (immutable after load) and `_last`, which is replaced in one assignment,
and never touch the main thread's encode memo.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import llama_cpp

from app import hardware
from app.engine import amx_guard, batch_params, llama_backend, load_params, prompt_store
from app.engine.abort_flag import AbortFlag
from app.engine.context import too_long_message
from app.engine.decode_loop import TokenFacts, decode_reply
from app.engine.llama_backend import amx_weights_loaded, default_threads, ensure_backend, last_log, recent_log
from app.engine.load_params import context_error, context_params, load_error, load_failure_reason, model_params
from app.engine.model_info import describe
from app.engine.offload import resolve_gpu_layers
from app.engine.probs_probe import probing_picker
from app.engine.prompt_batch import PromptBatches
from app.engine.prompt_encoder import PromptEncoder
from app.engine.prompt_replay import PromptReplay, reuse_or_replay, reuse_prefix, split_last
from app.engine.protocol import ChatMessage, EngineError, ErrorKind, LoadOptions, Stats, StopReason
from app.engine.sampler_chain import ReplySampler
from app.engine.sampling import SamplingParams
from app.engine.thread_fit import ThreadFit
from app.engine.token_probs import TokenProbs
from app.engine.tool_calls import printed_call_tokens
from app.engine.vision import encode_prompt, has_images, image_run_end, load_vision
from app.library.gguf_info import QUANT_NAMES, GGUFFileError, GGUFInfo, check_file, read_gguf_info, split_shards
from app.library.gguf_reader import GGUFErrorKind
from app.library.model_names import friendly_name


@dataclass
class Generated:
    text: str
    stats: Stats
    probs: list[TokenProbs] = field(default_factory=list)  # one per completion token, when asked for


class LoadedModel:
    """One model and one context (see the module's threading rule)."""

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
        ensure_backend()
        started = time.perf_counter()
        self._gguf = gguf
        self.options = options
        self._progress_cb = load_params.progress_callback(on_progress)
        shards = self._shards(options, gguf)
        system_info = hardware.system_info()
        avoid_amx = amx_guard.in_use(system_info) and amx_guard.avoid(system_info)
        mparams = model_params(options, resolve_gpu_layers(self.header, options), self._progress_cb,
                               extra_buffers=not avoid_amx)
        amx_weights_loaded(forget=True)
        recent_log()  # forget earlier warnings: a failed load names its own reason
        llama_backend.buffer_sizes(forget=True)  # the buffers named from now on are this load's (ModelInfo.buffers)
        model = llama_cpp.llama_model_load_from_file(str(shards[0]).encode(), mparams)
        if not model:
            raise load_error(load_failure_reason(recent_log()), self.header().architecture,  # header read only now
                             lambda: load_params.memory_advice(self.header, options, mparams.n_gpu_layers))
        self.model = model
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        n_ctx_train = llama_cpp.llama_model_n_ctx_train(model)
        n_ctx = options.n_ctx if options.n_ctx > 0 else n_ctx_train
        notice = [amx_guard.AVOIDED_NOTICE] if avoid_amx else []
        # the first prompt leaves a probe if weights went to the AMX buffer (amx_guard)
        self._amx_probe_pending = amx_weights_loaded()
        split = batch_params.split(options)  # sequences with n_ctx / split cells each (1: the usual one)
        if n_ctx_train > 0 and n_ctx > n_ctx_train * split:
            notice.append(f"context limited to the model's trained {n_ctx_train} tokens")
            n_ctx = n_ctx_train * split
        cpu_only = mparams.n_gpu_layers == 0 or not llama_cpp.llama_supports_gpu_offload()
        self.thread_fit = ThreadFit(options.n_threads or default_threads(), adaptive=not options.n_threads)
        cparams, kv_name, context_notice = context_params(options, n_ctx, self.thread_fit.most, cpu_only)
        self.n_parallel = batch_params.apply(cparams, options)  # several sequences in one context, if asked
        notice += context_notice
        ctx = llama_cpp.llama_init_from_model(model, cparams)
        if not ctx:
            llama_cpp.llama_model_free(model)
            self.model = None
            raise context_error(n_ctx, last_log(),
                                load_params.memory_advice(self.header, options, mparams.n_gpu_layers, n_ctx))
        self.ctx = ctx
        self.memory = llama_cpp.llama_get_memory(ctx)
        self.n_ctx = llama_cpp.llama_n_ctx_seq(ctx)  # what one sequence may use (all of it when n_parallel is 1)
        self.n_batch = cparams.n_batch
        self._batches = PromptBatches(self.n_batch)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self._replay = PromptReplay(ctx, self.n_vocab)
        self.prompts = prompt_store.for_model(ctx, self.memory, model, options.prompt_cache_mib,
                                              hardware.free_ram_bytes())  # prompts kept in RAM, or None
        self.n_layers = llama_cpp.llama_model_n_layer(model)
        self._cancel = AbortFlag()  # also polled by llama.cpp while a prompt is evaluated
        self._no_abort = llama_cpp.ggml_abort_callback()
        self._piece_buf = ctypes.create_string_buffer(256)
        template_text, name, arch = self._template_and_names(options, gguf)
        try:
            self.encoder = PromptEncoder(self.vocab, template_text, options.chat_template_file)
            self.vision = load_vision(options, model, self.thread_fit.most, cpu_only)  # images (vision.py)
        except EngineError:
            self.close()
            raise
        self.template = self.encoder.template
        self.extra_stops = self.encoder.extra_stops
        self._token_facts = TokenFacts(self.vocab, self._piece_buf, self.extra_stops)
        self._token_facts.update(printed_call_tokens(self.template.source, self.encoder.control_token_ids))
        if self.encoder.notice:
            notice.append(self.encoder.notice)

        # KV cache bookkeeping: the token ids now in the cache, and the text+tokens of the last
        # prompt plus reply, so the next turn can reuse the generated ids instead of re-tokenizing.
        self.kv_tokens: list[int] = []
        self.token_probs: list[TokenProbs] = []  # the reply's so far, when asked for (cleared, never replaced)
        self.reading: tuple[int, int] | None = None  # (tokens read, of) while a prompt is evaluated
        self._last: tuple[str, list[int]] = ("", [])  # replaced in one assignment (other threads read it)
        self._memo: tuple[Any, ...] | None = None  # main thread only: (key, _last, text, tokens) of the last encode
        self.info = describe(self, options, gguf, shards, mparams, name, arch, n_ctx_train, kv_name, notice, started)
        self.thread_fit.start()  # "Automatic" threads: fewer while other programs keep cores busy

    def _shards(self, options: LoadOptions, gguf: GGUFInfo | None) -> list[Path]:
        """The file's parts; without a header already read, each is checked so a bad one is named plainly."""
        if gguf is not None:
            return [Path(s) for s in gguf.shard_paths]
        shards = split_shards(Path(options.path))
        for shard in shards:
            try:
                check_file(shard)
            except GGUFFileError as exc:
                if exc.kind == GGUFErrorKind.MISSING_FILE and len(shards) > 1:
                    exc = GGUFFileError(GGUFErrorKind.MISSING_FILE,
                                        f"a part of this split model is missing: {shard.name}")
                raise EngineError(ErrorKind(exc.kind), str(exc)) from exc
        return shards

    def _template_and_names(self, options: LoadOptions, gguf: GGUFInfo | None) -> tuple[str, str, str]:
        if gguf is not None:
            return gguf.chat_template, gguf.display_name, gguf.architecture
        raw = llama_cpp.llama_model_chat_template(self.model, None)
        template_text = raw.decode("utf-8", errors="replace") if raw else ""
        file_type = self._meta("general.file_type")
        quant = QUANT_NAMES.get(int(file_type), "") if file_type.isdigit() else ""
        name = friendly_name(options.path, quant, self._meta("general.name"))
        return template_text, name, self._meta("general.architecture")

    # ------------------------------------------------------------ loading

    def header(self) -> GGUFInfo:
        """The file's header: the one the caller passed, else read now (once)."""
        if self._gguf is None:
            try:
                self._gguf = read_gguf_info(self.options.path)  # under the header deadline
            except GGUFFileError as exc:
                kind = ErrorKind.LOAD_FAILED if exc.kind == GGUFErrorKind.TIMEOUT else ErrorKind(exc.kind)
                raise EngineError(kind, str(exc)) from exc
        return self._gguf

    def _meta(self, key: str) -> str:
        return load_params.model_meta(self.model, key)

    def close(self) -> None:
        if vision := getattr(self, "vision", None):
            vision.close()
        if getattr(self, "thread_fit", None):
            self.thread_fit.stop()
        self.prompts = None
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

    def encode(self, messages: Sequence[ChatMessage], thinking: str = "default",
               tools: str = "") -> tuple[str, list[int]]:
        """The rendered prompt and the exact token ids the model will see for it (main thread).

        Message contents are tokenized as plain text and only the template's own text with
        special-token parsing, so text a user types never becomes a control token.
        The last answer is remembered: a chat request first counts its messages for the overflow
        policy, then evaluates the same messages, and should render and tokenize them once.
        """
        key = (tuple(messages), thinking, tools)
        last = self._last
        memo = self._memo
        if memo is not None and memo[0] == key and memo[1] is last:
            return memo[2], memo[3]
        text, tokens = self._encode(key[0], thinking, last, tools)
        self._memo = (key, last, text, tokens)
        return text, tokens

    def _encode(self, messages: Sequence[ChatMessage], thinking: str,
                last: tuple[str, list[int]], tools: str = "") -> tuple[str, list[int]]:
        segments = self.encoder.segments(messages, thinking, tools)
        if has_images(messages):
            return encode_prompt(self.vision, self.encoder, segments, messages)
        text = "".join(segment.text for segment in segments)
        last_text, last_tokens = last
        if last_text and text.startswith(last_text):
            # Reuse the ids of the previous prompt and reply: re-tokenizing a reply need not
            # give back the ids the model generated, and those are what the KV cache holds.
            return text, last_tokens + self.encoder.tokenize_segments(segments, len(last_text))
        return self.encoder.encode_segments(segments)

    def count(self, messages: Sequence[ChatMessage], thinking: str = "default", tools: str = "") -> int:
        """Prompt tokens for `messages` (main thread: shares the memo with the generation that follows)."""
        return len(self.encode(messages, thinking, tools)[1])

    def count_tokens(self, messages: Sequence[ChatMessage], thinking: str = "default", tools: str = "") -> int:
        """The same count from any other thread (the engine's count thread): no shared memo."""
        return len(self._encode(tuple(messages), thinking, self._last, tools)[1])

    # ------------------------------------------------------------ generation

    def cancel(self) -> None:
        self._cancel.set()

    def _reply_sampler(self, sampling: SamplingParams) -> ReplySampler:
        # probabilities are read from the logits on the host, which an in-graph chain never copies there
        return ReplySampler(self.ctx, sampling, self.n_vocab, in_graph=False if sampling.top_logprobs >= 0 else None)

    def _decode(self, tokens: Sequence[int], output: bool = True) -> int:
        # At most the last token's output (prompt_batch.py); the context is made with n_outputs_max = 1
        # (load_params), so a batch wanting several outputs would need a new context.
        return self._batches.decode(self.ctx, tokens, output)

    def generate(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingParams,
        on_text: Callable[[str, int], None],
        thinking: str = "default",
        tools: str = "",
    ) -> Generated:
        """Evaluate the prompt (reusing the cache) and stream the reply through on_text."""
        t0 = time.perf_counter()
        prefill = messages[-1].content if messages and messages[-1].prefill else None
        text_prompt, tokens = self.encode(messages[:-1] if prefill is not None else messages, thinking, tools)
        if prefill:  # the reply's start, as plain text: a user's "what if" never becomes a control token
            text_prompt, tokens = text_prompt + prefill, tokens + self.tokenize(prefill, False, special=False)
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
        self.token_probs.clear()
        sampling = sampling.validated()
        n_prompt = len(tokens)
        if n_prompt >= self.n_ctx:
            raise EngineError(ErrorKind.CONTEXT_OVERFLOW, too_long_message(n_prompt, self.n_ctx))
        if self.prompts is not None:  # keep the cached prompt in RAM if this one drops it; bring back a kept one
            self.prompts.exchange(0, self.kv_tokens, tokens)
        # the same prompt again (a regenerated reply) starts from its kept logits (prompt_replay.py)
        cached, _ready = reuse_or_replay(self.memory, self.kv_tokens, tokens, self._replay)

        def cancelled() -> Generated:
            return Generated("", Stats(n_prompt, cached, 0, time.perf_counter() - t0, 0.0, 0.0,
                                       StopReason.CANCELLED, self.n_ctx))

        t_eval = time.perf_counter()
        end = n_prompt - 1 if split_last() else n_prompt  # in-graph sampling: the last token goes alone
        if cached < end:
            if not self._evaluate_prompt(tokens, cached, end):
                return cancelled()
            if end == n_prompt:
                self._replay.remember(tokens)
        sampler = self._reply_sampler(sampling)
        try:
            if sampler.in_graph or len(self.kv_tokens) < n_prompt:  # the last token alone (prompt_replay.py)
                if len(self.kv_tokens) == n_prompt:  # went in whole: again, so the attached chain picks
                    self._replay.forget()
                    cached = min(cached, reuse_prefix(self.memory, self.kv_tokens, tokens))
                if not self._evaluate_prompt(tokens, n_prompt - 1, n_prompt):
                    return cancelled()
            t_prompt = time.perf_counter()
            return self._decode_loop(sampler, sampling, text_prompt, tokens, cached, t0, t_eval, t_prompt, on_text)
        finally:
            sampler.close()

    def _evaluate_prompt(self, tokens: list[int], start: int, end: int) -> bool:
        """Evaluate tokens[start:end] in batches; False if Stop came first. Stop can end a batch midway."""
        if start >= end:
            return not self._cancel.is_set()
        if self._amx_probe_pending:
            self._amx_probe_pending = False
            with amx_guard.probe():
                return self._evaluate_prompt(tokens, start, end)
        llama_cpp.llama_set_abort_callback(self.ctx, self._cancel.callback, self._cancel.data)
        try:
            pos = start
            while pos < end:
                self.thread_fit.apply(self.ctx)
                self.reading = (pos, len(tokens))  # the worker's heartbeat reports it (protocol.Reading)
                if tokens[pos] < 0 and self.vision is not None:  # an image's ids (vision.py)
                    after = self.vision.evaluate(self.ctx, tokens, pos, self.n_batch, self._resync_after_abort)
                    if after < 0:
                        return False
                    self.kv_tokens.extend(tokens[pos:after])
                    pos = after
                    continue
                chunk = tokens[pos : image_run_end(tokens, pos, min(pos + self.n_batch, end))]
                rc = self._decode(chunk, pos + len(chunk) == len(tokens))  # logits of the prompt's end only
                if rc == 2 or self._cancel.is_set():
                    self._resync_after_abort(pos)
                    return False
                if rc != 0:
                    self._resync_after_abort(pos)
                    raise EngineError(ErrorKind.OUT_OF_MEMORY if rc < 0 else ErrorKind.INTERNAL,
                                      f"llama.cpp failed to evaluate the prompt (code {rc})")
                self.kv_tokens.extend(chunk)
                pos += len(chunk)
            return True
        finally:
            llama_cpp.llama_set_abort_callback(self.ctx, self._no_abort, None)
            self.reading = None

    def _resync_after_abort(self, pos: int) -> None:
        # After an aborted or failed batch the cache content past `pos` is unknown: drop it.
        if not llama_cpp.llama_memory_seq_rm(self.memory, 0, pos, -1):
            llama_cpp.llama_memory_seq_rm(self.memory, 0, -1, -1)  # only sequence 0: a batch may hold others
            pos = 0
        del self.kv_tokens[pos:]

    def _decode_loop(self, sampler: ReplySampler, sampling: SamplingParams, text_prompt: str, tokens: list[int],
                     cached: int, t0: float, t_eval: float, t_prompt: float,
                     on_text: Callable[[str, int], None]) -> Generated:
        pick = sampler.pick
        if sampling.top_logprobs >= 0:
            pick = probing_picker(pick, self.ctx, self.n_vocab, sampling.top_logprobs, self._token_facts,
                                  self.token_probs)
        out = decode_reply(self.ctx, self._token_facts, pick, self._cancel, self.kv_tokens,
                           self.n_ctx, sampling, on_text, t_prompt, self.thread_fit)
        reason, generated, t_first = out.reason, out.tokens, out.t_first
        if reason in (StopReason.EOS, StopReason.LENGTH, StopReason.CONTEXT_FULL, StopReason.CANCELLED):
            self._last = (text_prompt + out.reply, list(tokens) + generated)
        else:
            self._last = ("", [])
        n_new = len(tokens) - cached
        # Prompt speed counts what llama-server's `prompt_per_second` counts: from the start of
        # evaluation to the first token picked (rendering and tokenizing are in ttft_s only).
        prompt_s = (t_first or t_prompt) - t_eval
        decode_s = out.t_last - t_first
        stats = Stats(
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=len(generated),
            ttft_s=(t_first or t_prompt) - t0,
            prompt_tok_s=n_new / prompt_s if prompt_s > 0 else 0.0,
            decode_tok_s=(len(generated) - 1) / decode_s if decode_s > 0 and len(generated) > 1 else 0.0,
            stop_reason=reason,
            n_ctx=self.n_ctx,
        )
        return Generated(out.reply, stats, self.token_probs[:len(generated)])
