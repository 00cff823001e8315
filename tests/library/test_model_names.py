"""Model names people recognise: file or repository name plus quantization, never the header's run label."""

from __future__ import annotations

import pytest

from app.library.gguf_info import read_gguf_info
from app.library.model_names import friendly_name, repo_display_name, split_name
from tests.support.tiny_gguf import write_tiny_model


@pytest.mark.parametrize(("path", "quant", "expected"), [
    ("/m/SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1", "SmolLM2 135M Instruct · Q4_1"),
    ("/hf/models--bartowski--Llama-3.2-1B-Instruct-GGUF/snapshots/0a1/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
     "Q4_K_M", "Llama 3.2 1B Instruct · Q4_K_M"),
    # the file's own label says more than the header's file type
    ("/m/unsloth/Qwen3-8B-GGUF/Qwen3-8B-UD-Q4_K_XL.gguf", "Q4_K_M", "Qwen3 8B · UD-Q4_K_XL"),
    # a generic file name: the repository folder names it
    ("/m/TheBloke/Mistral-7B-Instruct-v0.2-GGUF/model.gguf", "Q4_0", "Mistral 7B Instruct v0.2 · Q4_0"),
    ("/hf/models--org--Phi-3-mini-GGUF/snapshots/ab/ggml-model-q8_0.gguf", "", "Phi 3 mini · Q8_0"),
    # split models are named once, without the part number
    ("/m/gpt-oss-120b-MXFP4-00001-of-00003.gguf", "MXFP4", "gpt oss 120B · MXFP4"),
    ("/m/gemma-3-270m-it-f16.gguf", "F16", "gemma 3 270M it · F16"),
    # a lower-case file takes the capitalisation of its repository
    ("/hf/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/snapshots/ab/smollm2-135m-instruct-q8_0.gguf", "",
     "SmolLM2 135M Instruct · Q8_0"),
    ("/m/TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF/mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf", "",
     "Mixtral 8x7B Instruct v0.1 · Q4_K_M"),
    ("/m/plain.gguf", "", "plain"),
    ("/m/plain.gguf", "unknown", "plain"),
])
def test_friendly_names(path, quant, expected):
    assert friendly_name(path, quant) == expected


def test_split_name_keeps_dots_in_versions_and_reads_the_quant():
    assert split_name("/m/Llama-3.1-8B-Instruct.IQ3_XXS.gguf") == ("Llama 3.1 8B Instruct", "IQ3_XXS")


def test_the_header_name_is_kept_apart_from_the_display_name(tmp_path):
    path = write_tiny_model(tmp_path / "SmolLM2-135M-Instruct.Q8_0.gguf", name="Smollm2 135M 8k Lc100K Mix1 Ep2")
    info = read_gguf_info(path)
    assert info.name == "Smollm2 135M 8k Lc100K Mix1 Ep2"
    assert info.display_name.startswith("SmolLM2 135M Instruct · ")


def test_a_lower_case_file_is_named_as_its_header_spells_it(tmp_path):
    path = write_tiny_model(tmp_path / "gemma-3-270m-Q8_0.gguf", name="Gemma 3 270m")
    assert read_gguf_info(path).display_name == "Gemma 3 270M · Q8_0"
    assert friendly_name("/m/gemma-3-270m-Q8_0.gguf", "", header_name="gemma 3") == "gemma 3 270M · Q8_0"


def test_words_the_file_capitalises_stay_as_the_file_writes_them():
    assert friendly_name("/m/SmolLM2-135M.gguf", "", header_name="Smollm2 135m") == "SmolLM2 135M"


def test_a_header_with_another_name_does_not_recase_the_file_name():
    assert friendly_name("/m/tiny-chat.gguf", "F32", header_name="Tiny Test Model") == "tiny chat · F32"
    assert friendly_name("/m/smollm2-135m-instruct.gguf", "", header_name="Smollm2 135M 8k Lc100K") == \
        "smollm2 135M instruct"


def test_repository_names_for_the_starter_list():
    assert repo_display_name("bartowski/Llama-3.2-1B-Instruct-GGUF") == "Llama 3.2 1B Instruct"
    assert repo_display_name("Qwen/Qwen2.5-1.5B-Instruct-GGUF") == "Qwen2.5 1.5B Instruct"
