from app.formatting import human_bytes


def test_sizes_use_decimal_units_with_one_decimal():
    assert human_bytes(0) == "0 B"
    assert human_bytes(999) == "999 B"
    assert human_bytes(98_300_000) == "98.3 MB"
    assert human_bytes(4_920_000_000) == "4.9 GB"
    assert human_bytes(3e15) == "3000.0 TB"


def test_speeds_below_one_byte_per_second_are_shown_as_bytes():
    assert human_bytes(0.4) == "0 B"


def test_a_long_title_is_cut_at_a_word_with_an_ellipsis_and_a_short_one_is_kept():
    from app.formatting import short_title

    long = "Please explain how the tides of the ocean are caused by the moon and the sun"
    assert short_title(long) == "Please explain how the tides of the ocean are…"
    assert len(short_title(long)) <= 48
    assert short_title("  What is\n a GGUF file? ") == "What is a GGUF file?"
    assert short_title("x" * 48) == "x" * 48
    assert short_title("x" * 60) == "x" * 47 + "…"  # no word break near the end: cut mid-word


def test_counts_are_singular_for_one_and_plural_otherwise():
    from app.formatting import counted

    assert counted(1, "token") == "1 token"
    assert [counted(n, "token") for n in (0, 2)] == ["0 tokens", "2 tokens"]
    assert counted(1024, "token", grouped=True) == "1,024 tokens"
    assert counted(1, "reply", "replies") == "1 reply" and counted(3, "reply", "replies") == "3 replies"
