"""Split a streaming reply into thinking and answer.

Reasoning models write their thinking before the answer, in one of two shapes:

- `<think>…</think>` then the answer (Qwen3, QwQ, DeepSeek-R1 and its distills).
  Some templates open the block themselves: the generation prompt ends with
  `<think>` (and a newline), so the reply starts inside it and only `</think>`
  comes back.
- Gemma 4: `<|channel>thought\n…<channel|>` then the answer.
- Seed-OSS: `<seed:think>…</seed:think>` then the answer; MiniMax M3 the same with
  `<mm:think>`, or a bare `</mm:think>` (dropped) when it does not think.
- gpt-oss Harmony channels: `<|channel|>analysis<|message|>…<|end|>` is
  thinking, `<|start|>assistant<|channel|>final<|message|>…` is the answer.
  A message to a function (`to=functions.NAME` in its header) is a tool call:
  its header and arguments go on as answer text, as
  `<|start|>assistant<|channel|>commentary to=functions.NAME …<|message|>{…}`
  (or with the recipient in the role header), for the tool-call reader
  (engine/tool_formats_harmony.py); the prompt's own `<|start|>assistant` is
  put back when the reply opens with the recipient.

The engine turns tokens into text with `llama_token_to_piece(special=False)`,
which drops control tokens but keeps user-defined ones. `<think>`/`</think>` are
user-defined in real vocabularies (Qwen3, DeepSeek), so are Gemma 4's
`<|channel>`/`<channel|>`, and llama.cpp marks
gpt-oss's `<|channel|>`, `<|message|>`, `<|start|>` (and `<|end|>`, which it
takes off the end-of-generation list) user-defined too, so all of these markers
reach this parser as text. Markers may arrive split across pieces: a tail that
could be the start of one is held back until the next piece decides it.
"""

from __future__ import annotations

from dataclasses import dataclass

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
GEMMA_OPEN = "<|channel>"  # Gemma 4: <|channel>thought\n … <channel|>
GEMMA_CLOSE = "<channel|>"
GEMMA_LABEL = "thought\n"
SEED_OPEN = "<seed:think>"  # ByteDance Seed-OSS: <seed:think> … </seed:think>
SEED_CLOSE = "</seed:think>"
MM_OPEN = "<mm:think>"  # MiniMax M3: <mm:think> … </mm:think>, or a bare </mm:think> when it does not think
MM_CLOSE = "</mm:think>"
CHANNEL = "<|channel|>"
MESSAGE = "<|message|>"
START = "<|start|>"
HARMONY_ENDS = ("<|end|>", "<|return|>", "<|call|>")
THINKING_CHANNEL = "analysis"
HARMONY_REPLY = START + "assistant"  # a Harmony generation prompt ends with it
RECIPIENT = "to="  # a reply may open with its recipient (" to=functions.NAME"), the role written by the prompt
CALL_RECIPIENT = "to=functions."

# states
_DECIDING = "deciding"  # at the start of the reply: could still open a think block or a channel
_THINKING = "thinking"  # inside <think>…</think>
_ANSWER = "answer"  # plain answer text to the end
_HEADER = "header"  # Harmony: between <|start|>/<|channel|> and <|message|>
_BODY = "body"  # Harmony: a channel's message
_BETWEEN = "between"  # Harmony: after a message's end, before the next <|start|>


@dataclass(frozen=True)
class Split:
    reasoning: str = ""
    answer: str = ""

    def __bool__(self) -> bool:
        return bool(self.reasoning or self.answer)


def _partial_tail(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest tail of `text` that is a proper prefix of some marker."""
    longest = max(len(m) for m in markers)
    if "<" not in text[-(longest - 1):]:
        return 0  # every marker starts with "<": the common case costs one search
    for n in range(min(longest - 1, len(text)), 0, -1):
        tail = text[-n:]
        if any(m.startswith(tail) for m in markers):
            return n
    return 0


def _first(text: str, markers: tuple[str, ...]) -> tuple[int, str]:
    """Earliest marker in text: (index, marker), or (-1, "")."""
    best, found = -1, ""
    for marker in markers:
        i = text.find(marker)
        if i >= 0 and (best < 0 or i < best):
            best, found = i, marker
    return best, found


def starts_inside_think(prompt: str) -> bool:
    """Whether the generation prompt opened a think block the reply continues."""
    return prompt.rstrip(" \t\r\n").endswith(THINK_OPEN)


def _open_harmony_channel(prompt: str) -> str | None:
    """The channel a Harmony prompt already opened (ends with `<|channel|>X<|message|>`), if any."""
    if not prompt.endswith(MESSAGE):
        return None
    head = prompt[: -len(MESSAGE)]
    i = head.rfind(CHANNEL)
    if i < 0 or START in head[i:]:
        return None
    return _channel_name(head[i + len(CHANNEL):])


def _channel_name(header: str) -> str:
    # "analysis", or "commentary to=functions.x <|constrain|>json"
    return header.split("<|", 1)[0].strip().split(" ", 1)[0]


class ReasoningParser:
    """Feed reply text as it streams; get back what is thinking and what is answer.

    `prompt` is the rendered prompt the reply continues: it decides whether the
    reply starts inside a think block or inside a Harmony channel.
    """

    def __init__(self, prompt: str = "") -> None:
        self._held = ""
        self._channel = ""
        self._fresh = True  # at the start of a thinking/answer stretch: leading whitespace is dropped
        self._reasoning_seen = False
        self._close = THINK_CLOSE  # what ends the think block being read
        self._label = ""  # a channel name that may start the think block and is not shown
        self._call = False  # Harmony: the message being read is a tool call (answer text, never thinking)
        self._harmony = prompt.endswith(HARMONY_REPLY)
        self.answer_started = False  # the first answer character has been given out
        channel = _open_harmony_channel(prompt)
        if channel is not None:
            self._state, self._channel = _BODY, channel
        elif starts_inside_think(prompt):
            self._state = _THINKING
        else:
            self._state = _DECIDING
            self._fresh = False  # a reply without thinking is passed on exactly as written

    @property
    def settled(self) -> bool:
        """True once all the text still to come is answer, to be passed on exactly as written."""
        return self._state == _ANSWER and not self._fresh and not self._held

    @property
    def thinking(self) -> bool:
        """Whether the text being written now is thinking."""
        return self._state == _THINKING or (
            self._state == _BODY and self._channel == THINKING_CHANNEL and not self._call)

    def feed(self, text: str) -> Split:
        self._held += text
        reasoning: list[str] = []
        answer: list[str] = []
        while self._step(reasoning, answer):
            pass
        return self._split(reasoning, answer)

    def flush(self) -> Split:
        """The reply ended: whatever was held back belongs to the current stretch."""
        reasoning: list[str] = []
        answer: list[str] = []
        held, self._held = self._held, ""
        if self._state == _DECIDING:
            self._emit(held, answer, strip_end=False)
        elif self._state == _THINKING:
            if self._label and self._label.startswith(held):
                held = ""
            self._emit(held.rstrip(), reasoning, strip_end=False)
        elif self._state == _BODY:
            self._emit(held, reasoning if self.thinking else answer, strip_end=False)
        elif self._state == _ANSWER:
            self._emit(held, answer, strip_end=False)
        return self._split(reasoning, answer)

    # ------------------------------------------------------------ internals

    def _split(self, reasoning: list[str], answer: list[str]) -> Split:
        out = Split("".join(reasoning), "".join(answer))
        if out.answer:
            self.answer_started = True
        return out

    def _emit(self, text: str, into: list[str], strip_end: bool) -> str:
        """Give out text (without leading whitespace of a fresh stretch); return what is held back."""
        if self._fresh:
            text = text.lstrip()
            if not text:
                return ""
            self._fresh = False
            if into is not None and self._reasoning_seen and self.thinking:
                into.append("\n\n")  # a second stretch of thinking (Harmony) starts a new paragraph
        if self.thinking:
            self._reasoning_seen = True
        if strip_end:
            body = text.rstrip()
            into.append(body)
            return text[len(body):]
        into.append(text)
        return ""

    def _begin(self, state: str) -> None:
        self._state = state
        self._fresh = True

    def _step(self, reasoning: list[str], answer: list[str]) -> bool:
        """Consume what can be decided now; True when the state changed and there may be more."""
        held = self._held
        if self._state == _DECIDING:
            lead = held.lstrip()
            if lead.startswith(THINK_OPEN):
                self._held = lead[len(THINK_OPEN):]
                self._begin(_THINKING)
                return True
            for opener, closer in ((SEED_OPEN, SEED_CLOSE), (MM_OPEN, MM_CLOSE)):
                if lead.startswith(opener):
                    self._held = lead[len(opener):]
                    self._close = closer
                    self._begin(_THINKING)
                    return True
            if lead.startswith(MM_CLOSE):
                self._held = lead[len(MM_CLOSE):]
                self._begin(_ANSWER)
                return True
            if lead.startswith(GEMMA_OPEN):
                self._held = lead[len(GEMMA_OPEN):]
                self._close, self._label = GEMMA_CLOSE, GEMMA_LABEL
                self._begin(_THINKING)
                return True
            if lead.startswith(CHANNEL):
                self._held = lead
                self._begin(_HEADER)
                return True
            if self._harmony and lead.startswith(RECIPIENT):
                self._held = "assistant" + held  # the header's role, written by the prompt
                self._begin(_HEADER)
                return True
            openers: tuple[str, ...] = (THINK_OPEN, CHANNEL, GEMMA_OPEN, SEED_OPEN, MM_OPEN, MM_CLOSE)
            openers += (RECIPIENT,) if self._harmony else ()
            if lead and not any(m.startswith(lead) for m in openers):
                self._state = _ANSWER  # not fresh: the reply keeps its own leading whitespace
                return True
            return False
        if self._state == _ANSWER:
            self._held = ""
            self._emit(held, answer, strip_end=False)
            return False
        if self._state == _THINKING:
            if self._label:
                if len(held) < len(self._label) and self._label.startswith(held):
                    return False  # could still be the label
                if held.startswith(self._label):
                    held = self._held = held[len(self._label):]
                self._label = ""
            i = held.find(self._close)
            if i >= 0:
                self._emit(held[:i].rstrip(), reasoning, strip_end=False)
                self._held = held[i + len(self._close):]
                self._begin(_ANSWER)
                return True
            keep = _partial_tail(held, (self._close,))
            # trailing whitespace waits too: the last lines before </think> are not shown
            self._held = self._emit(held[: len(held) - keep], reasoning, strip_end=True) + held[len(held) - keep:]
            return False
        if self._state == _HEADER:
            i = held.find(MESSAGE)
            if i < 0:
                return False
            header = held[:i]
            c = header.rfind(CHANNEL)
            self._channel = _channel_name(header[c + len(CHANNEL):]) if c >= 0 else ""
            self._held = held[i + len(MESSAGE):]
            self._call = CALL_RECIPIENT in header
            if self._call:  # the call's header goes on with it, for the tool-call reader
                answer.append(START + ("" if header.startswith("assistant") else "assistant") + header + MESSAGE)
            self._begin(_BODY)
            return True
        if self._state == _BODY:
            into = reasoning if self.thinking else answer
            i, marker = _first(held, HARMONY_ENDS + (START,))
            if i >= 0:
                self._emit(held[:i].rstrip() if into is reasoning else held[:i], into, strip_end=False)
                self._held = held[i + len(marker):] if marker != START else held[i:]
                self._state = _BETWEEN
                return True
            keep = _partial_tail(held, HARMONY_ENDS + (START,))
            strip = into is reasoning
            rest = self._emit(held[: len(held) - keep], into, strip_end=strip)
            self._held = rest + held[len(held) - keep:]
            return False
        if self._state == _BETWEEN:
            i, marker = _first(held, (START, CHANNEL))
            if i >= 0:
                self._held = held[i + len(marker):] if marker == START else held[i:]
                self._state = _HEADER
                return True
            keep = _partial_tail(held, (START, CHANNEL))
            self._held = held[len(held) - keep:]  # a role name or stray text between messages is not shown
            return False
        return False
