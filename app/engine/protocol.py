"""Messages between the app and the engine process.

Everything here is a plain dataclass that pickles cleanly across the pipe.
Requests carry an id; every event answering a request carries the same id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app import load_limits as limits
from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice, TokenProbs
from app.library.gguf_info import GGUFInfo
from app.load_limits import ALL_LAYERS as ALL_LAYERS
from app.load_limits import AUTO_LAYERS as AUTO_LAYERS


class StopReason(str, enum.Enum):
    EOS = "eos"
    LENGTH = "length"
    STOP = "stop"
    CANCELLED = "cancelled"
    CONTEXT_FULL = "context_full"
    ERROR = "error"
    TOOL_LIMIT = "tool_limit"  # the tool loop's: the model asked for more rounds of calls than one reply may have


class OverflowPolicy(str, enum.Enum):
    STOP = "stop"
    TRUNCATE_MIDDLE = "truncate_middle"
    ROLLING_WINDOW = "rolling_window"

    @classmethod
    def saved(cls, value: str) -> OverflowPolicy:
        """A saved value; one from a newer or damaged database reads as the default."""
        try:
            return cls(value)
        except ValueError:
            return cls.TRUNCATE_MIDDLE


class ErrorKind(str, enum.Enum):
    MISSING_FILE = "missing_file"
    NOT_GGUF = "not_gguf"
    TRUNCATED = "truncated"
    UNSUPPORTED = "unsupported_architecture"
    OUT_OF_MEMORY = "out_of_memory"
    LOAD_FAILED = "load_failed"
    NO_MODEL = "no_model"
    CONTEXT_OVERFLOW = "context_overflow"
    CRASHED = "crashed"
    HUNG = "hung"  # no event for the hang timeout: the client killed the engine
    CONNECTION = "connection"  # a remote engine: refused, timed out, or the stream was cut
    AUTH = "auth"  # a remote engine refused the API key
    RATE_LIMITED = "rate_limited"
    BAD_REQUEST = "bad_request"
    INTERNAL = "internal"


# Where an image goes in a ChatMessage's content (engine/vision.py cuts the prompt there): private-use
# characters nobody types.
IMAGE_MARKER = "\ue000image\ue001"
NO_VISION = "This model cannot see images"  # an image sent to a model without a projector
AUTO_PROJECTOR = "auto"  # LoadOptions.mmproj: the engine pairs the model with the projector beside it, if any


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user", "assistant" or "tool"
    content: str
    reasoning: str = ""  # past thinking, which the template may re-send as reasoning_content
    tool_calls: tuple[tuple[str, str, str], ...] = ()  # an assistant's calls: (id, name, arguments JSON)
    tool_call_id: str = ""  # a "tool" message: the call it answers
    prefill: bool = False  # the last message only, an assistant's: the reply goes on from its text ("what if")
    images: tuple[bytes, ...] = ()  # image files, in order; IMAGE_MARKER in content marks each place


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class LoadOptions:
    """Bounds and defaults: app/load_limits.py. A bare LoadOptions runs on the CPU (the app and CLI ask for
    limits.GPU_LAYERS_DEFAULT), so engine tests and scripts never depend on a GPU."""

    path: str
    n_ctx: int = limits.CONTEXT_DEFAULT  # 0: the model's trained context
    n_gpu_layers: int = 0  # ALL_LAYERS, AUTO_LAYERS (fit free VRAM), or a count
    flash_attn: bool | None = None  # None: off for a CPU-only load with an f16 KV cache, else llama.cpp decides
    n_threads: int = limits.THREADS_AUTO  # 0: engine's choice (physical cores)
    n_batch: int = limits.BATCH_DEFAULT
    kv_cache_type: str = limits.KV_CACHE_DEFAULT  # one of limits.KV_CACHE_TYPES
    use_mmap: bool = limits.MMAP_DEFAULT
    chat_template_file: str = ""  # a .jinja file that replaces the model's own template
    mmproj: str = ""  # the image projector beside a vision model ("": text only; AUTO_PROJECTOR: the one paired)
    mmproj_gpu: bool = True  # the projector on the GPU (where there is one) or the CPU
    # Sequences decoded together (batch_params.py): 1 answers one request at a time. With several, a split
    # KV cache gives each n_ctx / n_parallel tokens; a unified one lets each use all n_ctx (shared).
    n_parallel: int = 1
    kv_unified: bool = False
    # RAM for prompts a sequence moved on from (prompt_store.py), in MiB: PROMPT_CACHE_AUTO or 0 (none)
    prompt_cache_mib: int = limits.PROMPT_CACHE_AUTO




@dataclass(frozen=True)
class Load:
    id: int
    options: LoadOptions
    gguf: GGUFInfo | None = None  # the header the caller already read: the engine then reads none


@dataclass(frozen=True)
class Chat:
    id: int
    messages: tuple[ChatMessage, ...]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE
    thinking: str = "default"  # "default", "on", "off", "low", "medium" or "high"
    tools: str = ""  # the offered tools, a JSON array in OpenAI's shape; the template describes them


@dataclass(frozen=True)
class Complete:
    """A raw text completion: the prompt is tokenized as given, no chat template."""

    id: int
    prompt: str
    sampling: SamplingParams = field(default_factory=SamplingParams)


@dataclass(frozen=True)
class Count:
    id: int
    messages: tuple[ChatMessage, ...]
    draft: str = ""
    overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE
    max_tokens: int = 0
    thinking: str = "default"
    tools: str = ""  # as Chat's: their schemas take tokens too


@dataclass(frozen=True)
class RenderPrompt:
    id: int
    messages: tuple[ChatMessage, ...]
    thinking: str = "default"


@dataclass(frozen=True)
class Tokenize:
    """The model's tokens of a text (plain text, as a message's content is) or of a chat's whole prompt."""

    id: int
    text: str = ""
    messages: tuple[ChatMessage, ...] = ()  # given: the exact prompt of these messages (special tokens included)
    thinking: str = "default"


@dataclass(frozen=True)
class NextTokens:
    """The model's best next tokens after a chat's prompt and the first tokens of its reply (the sampling chart)."""

    id: int
    messages: tuple[ChatMessage, ...]
    reply_tokens: tuple[int, ...] = ()  # the reply's tokens so far, as the model wrote them
    thinking: str = "default"
    n_top: int = 20


@dataclass(frozen=True)
class Cancel:
    id: int  # the id of the request to cancel


@dataclass(frozen=True)
class Unload:
    id: int


@dataclass(frozen=True)
class Shutdown:
    id: int = 0


Request = Load | Chat | Complete | Count | RenderPrompt | Tokenize | NextTokens | Cancel | Unload | Shutdown

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class ModelInfo:
    """A model as the engine loaded it: the context, offload, threads and template actually in use.

    Not the same thing as library.GGUFInfo, which holds what the file's header says before
    any load (and is all the library and the Hub pages ever need).
    """

    path: str
    name: str
    architecture: str
    n_params: int
    size_bytes: int
    n_ctx: int
    n_ctx_train: int
    n_layers: int
    n_gpu_layers: int
    n_vocab: int
    chat_template: str  # "gguf", "file", "builtin:NAME", "completion" or "default"
    flash_attn: bool | None  # as requested: None is the automatic choice (LoadOptions.flash_attn)
    load_seconds: float
    gpu_backend: str = "none"
    notice: str = ""  # anything the user should know about how it was loaded
    # the settings llama.cpp actually applied (read back from the context)
    n_threads: int = 0
    n_batch: int = 0
    kv_cache_type: str = "f16"
    use_mmap: bool = True
    # () when the template ignores thinking, ("on", "off") or ("low", "medium", "high")
    thinking_modes: tuple[str, ...] = ()
    tool_format: str = ""  # how its replies write tool calls (engine/tool_calls.py); "" when they do not
    mmproj: str = ""  # the image projector loaded with it ("": it cannot see images)
    # measured after the load: llama.cpp's buffers as it named them ("CPU KV", "CUDA0 model"), summed,
    # in bytes, and the engine process's resident memory (memory_plan.py plans the same figures)
    buffers: tuple[tuple[str, int], ...] = ()
    resident_bytes: int = 0
    n_parallel: int = 1  # requests the engine decodes together (n_ctx is what each of them may use)


@dataclass(frozen=True)
class Stats:
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float = 0.0
    prompt_tok_s: float = 0.0
    decode_tok_s: float = 0.0
    stop_reason: StopReason = StopReason.EOS
    n_ctx: int = 0
    dropped_messages: int = 0
    truncated: bool = False
    reasoning_tokens: int = 0  # completion tokens spent thinking
    reasoning_s: float = 0.0  # how long the thinking took
    tool_rounds: int = 0  # rounds of tool calls the reply made (the tool loop's)


@dataclass(frozen=True)
class CountResult:
    prompt_tokens: int  # exactly what the model will evaluate, after the overflow policy
    n_ctx: int
    untrimmed_tokens: int  # before the overflow policy
    dropped_messages: int = 0
    truncated: bool = False
    fits: bool = True  # False: the policy is "stop" and the prompt does not fit
    chat_template: str = "gguf"
    estimated: bool = False  # True: a remote engine that cannot count guessed the numbers


@dataclass(frozen=True)
class Progress:
    """How far a Load has got (downloads have their own hub.download_record.DownloadProgress)."""

    id: int
    fraction: float  # 0.0 is sent at once when the engine takes the request, before anything is read


@dataclass(frozen=True)
class Loaded:
    id: int
    info: ModelInfo


@dataclass(frozen=True)
class Token:
    id: int
    text: str  # answer delta
    n_tokens: int  # completion tokens so far
    reasoning: str = ""  # thinking delta
    probs: tuple[TokenProbs, ...] = ()  # the tokens since the last Token event, when sampling.top_logprobs >= 0


@dataclass(frozen=True)
class Counted:
    id: int
    result: CountResult


@dataclass(frozen=True)
class Done:
    id: int
    stats: Stats
    text: str = ""
    sampling: SamplingParams | None = None  # what the engine actually used (after clamping)
    reasoning: str = ""  # the whole thinking text; `text` is the answer alone
    probs: tuple[TokenProbs, ...] = ()  # one per completion token, when sampling.top_logprobs >= 0
    tool_calls: tuple[tuple[str, str, str], ...] = ()  # calls a remote server parsed: (id, name, arguments JSON)


@dataclass(frozen=True)
class Rendered:
    id: int
    prompt: str  # the exact text the model is given, special tokens included
    prompt_tokens: int
    chat_template: str


@dataclass(frozen=True)
class Tokenized:
    id: int
    tokens: tuple[tuple[int, bytes, bool], ...]  # (id, the bytes it prints, a control token such as <|im_start|>)


@dataclass(frozen=True)
class NextTokensFound:
    id: int
    top: tuple[TokenChoice, ...]  # best first; logprobs over the whole vocabulary
    recent: tuple[int, ...] = ()  # the reply's last tokens, those the repeat penalty looks at


@dataclass(frozen=True)
class Unloaded:
    id: int


@dataclass(frozen=True)
class Reading:
    """A reply's prompt is still being read (sent with the heartbeat once that takes over a second)."""

    id: int
    done: int  # prompt tokens in the cache so far (reused ones included)
    total: int


@dataclass(frozen=True)
class Heartbeat:
    """Sent by a busy worker at least every second: silence means it stopped."""

    id: int = 0


@dataclass(frozen=True)
class Error:
    id: int
    kind: ErrorKind
    message: str
    partial: str = ""  # the reply streamed before the failure (a remote stream cut mid-reply)
    detail: str = ""  # the engine process's traceback of an unexpected error, for the log file only


Event = (Progress | Loaded | Token | Counted | Done | Rendered | Tokenized | NextTokensFound | Unloaded | Reading
         | Heartbeat | Error)


class EngineError(Exception):
    """An engine failure with a message a user can read."""

    def __init__(self, kind: ErrorKind, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail  # the engine process's traceback, if it had one (for the log file)
