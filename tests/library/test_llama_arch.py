"""The architectures the vendored llama.cpp knows: the shipped list matches its source, and the sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.library import architectures, llama_arch_gen
from app.library.llama_arch_names import ARCHITECTURES, LLAMA_CPP_BUILD, LLAMA_CPP_PYTHON_VERSION

SDIST = Path.home() / ".cache" / "hearth" / "llama-ref" / LLAMA_CPP_PYTHON_VERSION / "src"


def test_the_shipped_list_is_what_the_generator_writes_from_the_vendored_source():
    if not (SDIST / llama_arch_gen.ARCH_SOURCE).is_file():
        pytest.skip(f"no cached llama-cpp-python source at {SDIST} (bench/engine_throughput.py caches it)")
    assert llama_arch_gen.render(SDIST) == llama_arch_gen.NAMES_FILE.read_text(encoding="utf-8")


def test_the_parser_reads_llama_cpps_table_and_leaves_out_the_non_models():
    source = """
static const std::map<llm_arch, const char *> LLM_ARCH_NAMES = {
    { LLM_ARCH_CLIP,             "clip"             }, // dummy, only used by llama-quantize
    { LLM_ARCH_LLAMA,            "llama"            },
    { LLM_ARCH_GEMMA3,           "gemma3"           },
    { LLM_ARCH_UNKNOWN,          "(unknown)"        },
};

static const std::map<llm_kv, const char *> LLM_KV_NAMES = {
    { LLM_KV_GENERAL_TYPE,                           "general.type"                          },
};
"""
    assert llama_arch_gen.arch_names(source) == ["llama", "gemma3"]
    with pytest.raises(ValueError):
        llama_arch_gen.arch_names("nothing here")


def test_common_architectures_are_known_and_a_made_up_one_is_not():
    assert {"llama", "gemma3", "qwen3", "phi3", "gpt-oss"} <= ARCHITECTURES
    assert architectures.architecture_problem("llama") == ""
    if not architectures.list_applies():
        pytest.skip("the installed llama-cpp-python is not the version the list was made from")
    assert architectures.architecture_problem("notarealarch") == (
        f"This model's architecture is `notarealarch`; the llama.cpp in this Hearth (build {LLAMA_CPP_BUILD}, "
        f"from llama-cpp-python {LLAMA_CPP_PYTHON_VERSION}) does not know it")


def test_after_an_upgrade_the_list_is_not_trusted(monkeypatch):
    monkeypatch.setattr(architectures, "installed_version", lambda: "9.9.9")
    assert architectures.architecture_problem("brand-new-arch") == ""  # llama.cpp's own load error says it
    assert "(from llama-cpp-python 9.9.9)" in architectures.unknown_architecture_message("x")
