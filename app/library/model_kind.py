"""Whether a model is a base model, and which chat template it is rendered with, in the one
wording that the Models page, the model picker, the chat's info line, the prompt dialog and the
engine's notice all use. No Qt.

A base model continues text; it was never tuned to answer. The rule, from the header alone: the
file has no `tokenizer.chat_template`, and none of its names (file, repository folder,
`general.name`, `general.finetune`) nor its `general.tags` carry a word that chat tunes use
(instruct, chat, -it, sft, dpo…). Gemma 3 270M (no template, no such word) is one;
gemma-3-270m-it is not, even when its file has lost the template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath

from app.library.gguf_info import GGUFInfo
from app.library.model_names import repo_name

BASE_MODEL = "Base model: continues text rather than answering"

# words in a model's names or tags that say it was tuned to follow instructions or chat
CHAT_WORDS = frozenset({
    "instruct", "instruction", "instructions", "chat", "it", "inst", "sft", "dpo", "rlhf", "orpo", "kto",
    "assistant", "conversational", "hermes", "vicuna", "zephyr", "openchat", "tulu", "alpaca",
})
WORD_SPLIT = re.compile(r"[^a-z0-9]+")

# ModelInfo.chat_template (what the engine chose when it loaded the model) in words
_ORIGIN_WORDS = {
    "gguf": "its own chat template",
    "file": "the chat template file you chose",
    "completion": "plain text completion (no chat template)",
    "server": "the server's chat template",
    "default": "a default ChatML chat template (its own could not be used)",
}
NONE_IN_FILE = "none in the file (a built-in one is chosen when it loads)"


def says_chat(text: str) -> bool:
    """True when a name or tag has a word that chat or instruction tunes use ("Llama-3.2-1B-Instruct")."""
    return any(word in CHAT_WORDS or word.startswith(("instruct", "chat"))
               for word in WORD_SPLIT.split(text.lower()) if word)


def looks_like_base_model(has_chat_template: bool, names: Iterable[str]) -> bool:
    """No chat template, and no name or tag says the model was tuned to chat."""
    return not has_chat_template and not any(says_chat(name) for name in names if name)


def is_base_model(info: GGUFInfo) -> bool:
    path = PurePath(info.path)
    names = (path.name, repo_name(path), info.name, info.finetune, *info.tags)
    return looks_like_base_model(info.has_chat_template, names)


def template_words(origin: str) -> str:
    """Which chat template a loaded model uses: ModelInfo.chat_template ("gguf", "file",
    "builtin:NAME", "completion", "server" or "default") in words."""
    if origin.startswith("builtin:"):
        return f"a built-in {origin.split(':', 1)[1]} chat template (none in the file)"
    return _ORIGIN_WORDS.get(origin, _ORIGIN_WORDS["default"])


def file_template_words(info: GGUFInfo) -> str:
    """Which chat template a model will use, from its header alone (before any load)."""
    return template_words("gguf") if info.has_chat_template else NONE_IN_FILE


def kind_words(info: GGUFInfo | None) -> str:
    """BASE_MODEL for a base model, else "" (a chat model needs no words)."""
    return BASE_MODEL if info is not None and is_base_model(info) else ""

