from app import model_defaults
from app.engine.sampling import SamplingParams

LOAD = {"n_ctx": 2048, "n_gpu_layers": -2, "flash_attn": "on", "kv_cache_type": "q8_0", "n_batch": 256,
        "n_threads": 4, "use_mmap": False}


def test_load_and_sampling_are_remembered_per_model_file():
    defaults: dict = {}
    model_defaults.remember_load(defaults, "/m/a.gguf", {**LOAD, "window_geometry": "not a load setting"})
    model_defaults.remember_sampling(defaults, "/m/a.gguf", SamplingParams(temperature=0.2, max_tokens=99))
    assert model_defaults.load_values(defaults, "/m/a.gguf") == LOAD
    assert model_defaults.sampling(defaults, "/m/a.gguf") == SamplingParams(temperature=0.2, max_tokens=99)
    assert model_defaults.load_values(defaults, "/m/b.gguf") is None
    assert model_defaults.sampling(defaults, "/m/b.gguf") is None


def test_damaged_entries_from_an_edited_settings_file_are_ignored():
    defaults = {"/m/a.gguf": "nonsense", "/m/b.gguf": {"load": {"n_ctx": 1}, "sampling": {"temperature": "hot"}},
                "/m/c.gguf": {"sampling": {"no_such_field": 1}}}
    assert model_defaults.load_values(defaults, "/m/a.gguf") is None
    assert model_defaults.load_values(defaults, "/m/b.gguf") is None  # incomplete
    assert model_defaults.sampling(defaults, "/m/b.gguf") is None  # a temperature that is not a number
    assert model_defaults.sampling(defaults, "/m/c.gguf") == SamplingParams()  # unknown names are dropped


def test_stored_load_settings_become_engine_options() -> None:
    # Settings keep flash attention as text; Compare handed that text to the engine ("KeyError: 'auto'")
    for stored, expected in (("auto", None), ("On", True), ("off", False), (None, None), (True, True)):
        options = model_defaults.load_options("/m.gguf", {"n_ctx": 2048, "flash_attn": stored})
        assert options.flash_attn is expected and options.n_ctx == 2048 and options.path == "/m.gguf"
