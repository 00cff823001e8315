"""Base models are named so, and one wording says which chat template a model uses."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine.protocol import ModelInfo
from app.engine.template_choice import BASE_MODEL_NOTICE
from app.library.gguf_info import read_gguf_info
from app.library.model_kind import (
    BASE_MODEL,
    NONE_IN_FILE,
    file_template_words,
    is_base_model,
    kind_words,
    looks_like_base_model,
    template_words,
)
from app.ui.chat.model_line import loaded_line
from tests.support.tiny_gguf import write_tiny_model


def test_a_model_without_a_template_or_a_chat_name_is_a_base_model(tmp_path):
    path = write_tiny_model(tmp_path / "gemma-3-270m-Q8_0.gguf", chat_template=None, name="Gemma 3 270m")
    info = read_gguf_info(path)
    assert is_base_model(info) and kind_words(info) == BASE_MODEL
    assert file_template_words(info) == NONE_IN_FILE


@pytest.mark.parametrize(("file", "name", "kwargs"), [
    ("gemma-3-270m-it-Q8_0.gguf", "Gemma 3 270m", {}),  # -it in the file name
    ("model-Q8_0.gguf", "Llama 3.2 1B Instruct", {}),  # instruct in general.name
    ("model-Q8_0.gguf", "Mystery", {"finetune": "chat"}),  # general.finetune
    ("model-Q8_0.gguf", "Mystery", {"tags": ["text-generation", "conversational"]}),  # general.tags
])
def test_no_template_but_a_chat_tune_by_name_or_tag_is_not_a_base_model(tmp_path, file, name, kwargs):
    path = write_tiny_model(tmp_path / file, chat_template=None, name=name, **kwargs)
    assert not is_base_model(read_gguf_info(path)) and kind_words(read_gguf_info(path)) == ""


def test_a_model_with_its_own_template_is_never_a_base_model(tmp_path):
    info = read_gguf_info(write_tiny_model(tmp_path / "gemma-3-270m.gguf", name="Gemma 3 270m"))
    assert not is_base_model(info) and file_template_words(info) == "its own chat template"


def test_chat_words_are_whole_words():
    assert looks_like_base_model(False, ["Qwen3-8B-Base", "Italian-Poet-7B"])  # "it" inside a word is not "-it"
    assert not looks_like_base_model(False, ["Mistral-7B-Instruct-v0.2"])
    assert not looks_like_base_model(True, ["Qwen3-8B-Base"])


def test_template_words_are_one_wording_for_every_origin():
    assert template_words("gguf") == "its own chat template"
    assert template_words("builtin:gemma") == "a built-in gemma chat template (none in the file)"
    assert template_words("completion") == "plain text completion (no chat template)"
    assert BASE_MODEL_NOTICE == BASE_MODEL  # the engine's notice says it the same way


def _loaded(**changes) -> ModelInfo:
    values: dict[str, Any] = {
        "path": "/m/gemma-3-270m-Q8_0.gguf", "name": "Gemma 3 270M · Q8_0", "architecture": "gemma3", "n_params": 1,
        "size_bytes": 1, "n_ctx": 2048, "n_ctx_train": 2048, "n_layers": 2, "n_gpu_layers": 0, "n_vocab": 10,
        "chat_template": "builtin:gemma", "flash_attn": None, "load_seconds": 0.5,
    }
    values.update(changes)
    return ModelInfo(**values)


def test_the_info_line_names_a_base_model_and_its_template_once(tmp_path):
    header = read_gguf_info(write_tiny_model(tmp_path / "gemma-3-270m-Q8_0.gguf", chat_template=None,
                                             name="Gemma 3 270m"))
    line = loaded_line(_loaded(), header=header)
    assert line.startswith(f"Gemma 3 270M · Q8_0 · {BASE_MODEL} · ")
    assert "a built-in gemma chat template (none in the file)" in line
    completion = loaded_line(_loaded(chat_template="completion", notice=BASE_MODEL_NOTICE))
    assert completion.count(BASE_MODEL) == 1 and "Note:" not in completion
    chat = read_gguf_info(write_tiny_model(tmp_path / "chat.gguf", name="Chat"))
    assert BASE_MODEL not in loaded_line(_loaded(chat_template="gguf"), header=chat)
