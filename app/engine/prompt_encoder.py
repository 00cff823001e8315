"""From a conversation to token ids with a model's vocabulary: the template is chosen,
rendered, and tokenized so that only the template's own markers become special tokens.

Needs only a llama.cpp vocabulary, so `hearth prompt` (a vocab-only load) and the engine
share this code and give the same counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import llama_cpp

from app.engine.builtin_templates import END_MARKERS
from app.engine.chat_template import ChatTemplate, Segment
from app.engine.protocol import ChatMessage
from app.engine.template_choice import choose_template

RUN_CACHE_CHARS = 8_000_000  # text kept with its tokens: a few long chats' worth
_SPECIAL_ATTRS = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED


class PromptEncoder:
    def __init__(self, vocab: Any, gguf_template: str | None, template_file: str = "") -> None:
        self.vocab = vocab
        self._runs: dict[tuple[str, bool], tuple[int, ...]] = {}  # (text, special) -> its tokens (_run_tokens)
        self._run_chars = 0
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
        bos_text = self.token_text(llama_cpp.llama_vocab_bos(vocab))
        eos_text = self.token_text(llama_cpp.llama_vocab_eos(vocab))
        self.template: ChatTemplate
        self.template, self.notice = choose_template(template_file, gguf_template, bos_text, eos_text,
                                                     self.is_control_token)
        # the template's end-of-turn markers that are control tokens: they end a reply; but not an
        # `<|end|>` llama.cpp took off its end-of-generation list (gpt-oss, where `<|return|>` and
        # `<|call|>` end the reply and `<|end|>` only a message: the thinking, before the answer)
        stops = [m for m in END_MARKERS if m != "<|end|>" or not self._taken_off_eog(m)]
        self.extra_stops = frozenset(self.control_token_ids(stops))

    def _taken_off_eog(self, marker: str) -> bool:
        """A marker llama.cpp itself ends generation on by its text, that it took off the list."""
        ids = self.tokenize(marker, add_bos=False, special=True)
        return len(ids) == 1 and self.is_control_token(marker) and not llama_cpp.llama_vocab_is_eog(self.vocab, ids[0])

    def token_text(self, token: int) -> str:
        if token < 0:
            return ""
        raw = llama_cpp.llama_vocab_get_text(self.vocab, token)
        return raw.decode("utf-8", errors="replace") if raw else ""

    def tokenize(self, text: str, add_bos: bool, special: bool = True) -> list[int]:
        """Token ids of `text`; `special=False` keeps control-token look-alikes as plain text."""
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buf = (llama_cpp.llama_token * capacity)()
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, capacity, add_bos, special)
        if n < 0:
            capacity = -n
            buf = (llama_cpp.llama_token * capacity)()
            n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, capacity, add_bos, special)
        return list(buf[:n])

    def is_control_token(self, text: str) -> bool:
        """True when llama.cpp parses `text` as one control, user-defined or end-of-generation token."""
        ids = self.tokenize(text, add_bos=False, special=True)
        if len(ids) != 1:
            return False
        token = ids[0]
        special = llama_cpp.llama_vocab_get_attr(self.vocab, token) & _SPECIAL_ATTRS
        return bool(special or llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def control_token_ids(self, texts: Iterable[str]) -> list[int]:
        return [self.tokenize(t, add_bos=False)[0] for t in texts if self.is_control_token(t)]

    def segments(self, messages: Sequence[ChatMessage], thinking: str = "default", tools: str = "") -> list[Segment]:
        offered = json.loads(tools) if tools else []  # a JSON array, checked by whoever sent it
        return self.template.segments(messages, add_generation_prompt=True, thinking=thinking, tools=offered)

    def tokenize_segments(self, segments: Sequence[Segment], skip: int = 0, add_bos: bool = False) -> list[int]:
        """Tokens of the segments' text from character `skip` on.

        Like llama.cpp's own tokenizer, the text is cut at control tokens and each run of text
        between them is tokenized as a whole; but only control tokens written by the template
        count: in message contents they stay plain text.
        """
        tokens: list[int] = [llama_cpp.llama_vocab_bos(self.vocab)] if add_bos else []
        for fragment in self._fragments(segments, skip):
            if isinstance(fragment, int):
                tokens.append(fragment)
            elif fragment:
                tokens += self._run_tokens(fragment)
        return tokens

    def fragments(self, segments: Sequence[Segment]) -> list[int | str]:
        """The prompt as control token ids and the plain-text runs between them (vision.py cuts the runs)."""
        return self._fragments(segments, 0)

    def run_tokens(self, run: str) -> list[int]:
        return self._run_tokens(run)

    def _run_tokens(self, run: str, special: bool = False) -> list[int]:
        """Tokens of one run of text between control tokens (or of the template's own text), kept: a
        chat's earlier messages are the same runs on every count, so the context meter tokenizes only
        what changed (the draft)."""
        key = (run, special)
        known = self._runs.get(key)
        if known is None:
            known = self._runs[key] = tuple(self.tokenize(run, add_bos=False, special=special))
            self._run_chars += len(run)
            if self._run_chars > RUN_CACHE_CHARS:  # a plain dict (two threads use it): emptied, not ordered
                self._runs, self._run_chars = {key: known}, len(run)
        return list(known)

    def _fragments(self, segments: Sequence[Segment], skip: int) -> list[int | str]:
        """Control token ids from template text, and the text runs between them."""
        fragments: list[int | str] = []
        run: list[str] = []
        for segment in segments:
            text = segment.text
            if skip >= len(text):
                skip -= len(text)
                continue
            text, skip = text[skip:], 0
            if not segment.special:
                run.append(text)
                continue
            pos = 0
            for token in self._run_tokens(text, special=True):
                if not llama_cpp.llama_vocab_get_attr(self.vocab, token) & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL:
                    continue
                at = text.find(self.token_text(token), pos)
                if at < 0:
                    continue
                run.append(text[pos:at])
                fragments += ["".join(run), token]
                run = []
                pos = at + len(self.token_text(token))
            run.append(text[pos:])
        fragments.append("".join(run))
        return self._strip_around(fragments)

    def _strip_around(self, fragments: list[int | str]) -> list[int | str]:
        """llama.cpp drops the whitespace beside a control token marked LSTRIP/RSTRIP (Phi-3's)."""
        for i, fragment in enumerate(fragments):
            if not isinstance(fragment, int):
                continue
            attr = llama_cpp.llama_vocab_get_attr(self.vocab, fragment)
            before = fragments[i - 1] if i > 0 else None
            if attr & llama_cpp.LLAMA_TOKEN_ATTR_LSTRIP and isinstance(before, str):
                fragments[i - 1] = before.rstrip()
            after = fragments[i + 1] if i + 1 < len(fragments) else None
            if attr & llama_cpp.LLAMA_TOKEN_ATTR_RSTRIP and isinstance(after, str):
                fragments[i + 1] = after.lstrip()
        return fragments

    def encode_segments(self, segments: Sequence[Segment]) -> tuple[str, list[int]]:
        """The whole prompt from scratch (a BOS is added unless the template wrote one)."""
        text = "".join(segment.text for segment in segments)
        bos = self.template.bos_token
        add_bos = self.add_bos and not (bos and text.startswith(bos))
        return text, self.tokenize_segments(segments, 0, add_bos=add_bos)

    def encode(self, messages: Sequence[ChatMessage], thinking: str = "default") -> tuple[str, list[int]]:
        return self.encode_segments(self.segments(messages, thinking))
