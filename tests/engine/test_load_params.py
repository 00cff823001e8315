"""llama.cpp parameters from LoadOptions, and what a failed load means in plain words."""

from __future__ import annotations

from app.engine.load_params import context_error, context_params, load_error, load_failure_reason
from app.engine.protocol import ErrorKind, LoadOptions


def test_a_quantized_kv_cache_turns_flash_attention_on_unless_it_is_off():
    _params, kind, notice = context_params(LoadOptions("m.gguf", kv_cache_type="q8_0"), 2048, 2)
    assert kind == "q8_0" and notice == []
    _params, kind, notice = context_params(LoadOptions("m.gguf", kv_cache_type="q4_0", flash_attn=False), 2048, 2)
    assert notice == ["the V cache stays f16 because flash attention is off"]
    params, kind, _notice = context_params(LoadOptions("m.gguf", kv_cache_type="bogus", n_batch=8192), 1024, 3)
    assert kind == "f16" and params.n_batch == 1024 and params.n_threads == 3  # the batch never exceeds the context


def test_failed_loads_are_explained_from_llama_cpps_last_words():
    assert load_error("unknown model architecture: 'mamba9'", "mamba9").kind == ErrorKind.UNSUPPORTED
    assert load_error("", "not-a-real-arch").kind == ErrorKind.UNSUPPORTED
    oom = load_error("failed to allocate buffer", "llama")
    assert oom.kind == ErrorKind.OUT_OF_MEMORY and "llama.cpp said: failed to allocate buffer" in oom.message
    assert load_error("tensor data is not within file bounds", "llama").kind == ErrorKind.LOAD_FAILED
    unknown = load_error("", "not-a-real-arch").message
    assert unknown.startswith("This model's architecture is `not-a-real-arch`; the llama.cpp in this Hearth (")
    error = context_error(131072, "")
    assert error.kind == ErrorKind.OUT_OF_MEMORY and "131072-token context" in error.message


def test_automatic_flash_attention_is_off_on_the_cpu_and_llama_cpps_choice_elsewhere():
    import llama_cpp

    def flash(cpu_only: bool, **options) -> int:
        return context_params(LoadOptions("m.gguf", **options), 2048, 2, cpu_only=cpu_only)[0].flash_attn_type

    assert flash(True) == llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED  # slow decode in long chats on the CPU
    assert flash(False) == llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO
    assert flash(True, flash_attn=True) == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED  # the user's choice stands
    assert flash(True, kv_cache_type="q8_0") == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED  # a quantized V cache needs it


def test_a_failed_load_names_llama_cpps_reason_not_its_closing_words():
    log = ["llama_model_load: error loading model: check_tensor_dims: tensor 'blk.0.x.weight' not found",
           "llama_model_load_from_file_impl: failed to load model"]
    assert load_failure_reason(log) == "check_tensor_dims: tensor 'blk.0.x.weight' not found"
    assert load_failure_reason(["some warning", "llama_model_load_from_file_impl: failed to load model"]) == (
        "some warning")
    assert load_failure_reason([]) == ""


def test_running_out_of_memory_says_what_the_load_needs_and_what_to_change(tiny_model):
    from app.library.gguf_info import read_gguf_info
    from app.library.memory_plan import out_of_memory_advice, plan_memory

    plan = plan_memory(read_gguf_info(tiny_model), 2048)
    advice = out_of_memory_advice(plan, free_ram=1024**2, always=True)
    oom = load_error("failed to allocate buffer", "llama", lambda: advice)
    assert oom.kind == ErrorKind.OUT_OF_MEMORY
    assert oom.message.startswith("not enough memory to load this model: needs about ")
    assert "1.0 MB free: try a smaller context" in oom.message and "llama.cpp said: failed to allocate" in oom.message
    error = context_error(131072, "", advice)
    assert "needs about" in error.message and "131072-token context" in error.message
