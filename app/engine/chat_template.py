"""Render a conversation with the model's own GGUF chat template (Jinja).

A model without `tokenizer.chat_template` gets a ChatML default, and the
caller is told which one was used.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.engine.protocol import ChatMessage

DEFAULT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class TemplateError(ValueError):
    """The model's chat template could not render this conversation."""


def _raise_exception(message: str) -> None:
    raise TemplateError(f"the model's chat template refused the conversation: {message}")


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


@dataclass
class ChatTemplate:
    source: str
    bos_token: str = ""
    eos_token: str = ""
    origin: str = "gguf"  # "gguf" or "default"

    def __post_init__(self) -> None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loader=jinja2.BaseLoader())
        env.globals["raise_exception"] = _raise_exception
        env.globals["strftime_now"] = _strftime_now
        try:
            self._template = env.from_string(self.source)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"the model's chat template is not valid Jinja: {exc}") from exc

    @classmethod
    def for_model(cls, gguf_template: str | None, bos_token: str, eos_token: str) -> "ChatTemplate":
        if gguf_template:
            try:
                return cls(gguf_template, bos_token, eos_token, "gguf")
            except TemplateError:
                pass  # an unusable template falls back to the default, and says so via origin
        return cls(DEFAULT_TEMPLATE, bos_token, eos_token, "default")

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        payload = [{"role": m.role, "content": m.content} for m in messages]
        try:
            return self._template.render(
                messages=payload,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                add_generation_prompt=add_generation_prompt,
            )
        except TemplateError:
            raise
        except Exception as exc:  # a template bug must not take the engine down
            raise TemplateError(f"the model's chat template failed: {exc}") from exc
