"""One module of load limits and defaults: Settings, per-model defaults, the CLI and the engine agree."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest

from app import load_limits as limits
from app import model_defaults
from app.cli.common import CliError, QuietParser
from app.cli.generation_args import add_generation_args, check_generation_args, load_options
from app.engine.protocol import LoadOptions
from app.settings import Settings


def cli_args(*flags: str):
    parser = QuietParser(prog="hearth chat")
    add_generation_args(parser)
    parser.add_argument("prompt")
    return parser.parse_args([*flags, "Hi"])


def test_every_place_starts_from_the_same_load_defaults():
    hearth = model_defaults.hearth_load_values()
    settings = asdict(Settings())
    assert {name: settings[name] for name in model_defaults.LOAD_FIELDS} == hearth
    from_settings = model_defaults.load_options("/m.gguf", hearth)
    assert load_options(cli_args(), "/m.gguf") == from_settings  # the CLI's flags, none given
    # a bare LoadOptions differs only in running on the CPU (so engine tests never need a GPU)
    assert replace(from_settings, n_gpu_layers=0) == LoadOptions("/m.gguf")
    assert from_settings.n_gpu_layers == limits.AUTO_LAYERS


def test_one_context_limit_capped_by_the_models_trained_context():
    from app.engine.remote_payload import MAX_CONTEXT

    assert limits.CONTEXT_MAX == MAX_CONTEXT  # what a server may report is bounded the same way
    assert limits.context_maximum(32768) == 32768
    assert limits.context_maximum(1_048_576) == 1_048_576  # a 1M-context model keeps all of it
    assert limits.context_maximum(0) == limits.CONTEXT_MAX  # unknown: only the sanity bound
    assert limits.context_maximum(1 << 30) == limits.CONTEXT_MAX  # a header that lies
    assert limits.context_maximum(100) == limits.CONTEXT_MIN


def test_the_kv_cache_types_offered_are_the_ones_the_engine_knows():
    from app.engine.load_params import KV_TYPES

    assert set(limits.KV_CACHE_TYPES) == set(KV_TYPES)


@pytest.mark.parametrize(("flags", "words"), [
    (("--ctx", "-1"), "--ctx must be between 0"),
    (("--ctx", str(limits.CONTEXT_MAX + 1)), "16,777,216"),
    (("--batch", "0"), "--batch must be between 1"),
    (("--threads", "-2"), "--threads must be between 0 (automatic)"),
])
def test_the_cli_refuses_load_flags_out_of_bounds_in_one_line(flags, words):
    with pytest.raises(CliError, match=r"^--") as refused:
        check_generation_args(cli_args(*flags))
    assert words in str(refused.value)


def test_the_cli_still_takes_what_it_took_before():
    for flags in (("--ctx", "0"), ("--ctx", "128"), ("--batch", "16"), ("--batch", "16384"), ("--threads", "64")):
        check_generation_args(cli_args(*flags))


def test_flash_attention_reads_and_writes_one_way():
    assert [limits.flash_value(text) for text in ("auto", "On", " off ", "bogus")] == [None, True, False, None]
    for _label, value in limits.FLASH_CHOICES:
        assert limits.flash_value(limits.FLASH_TEXT[value]) is value


def test_load_values_and_options_convert_both_ways():
    values = {**model_defaults.hearth_load_values(), "n_ctx": 8192, "flash_attn": "on", "kv_cache_type": "q8_0"}
    options = model_defaults.load_options("/m.gguf", values)
    assert options.flash_attn is True and model_defaults.values_of(options) == values
