from app.formatting import human_bytes


def test_sizes_use_decimal_units_with_one_decimal():
    assert human_bytes(0) == "0 B"
    assert human_bytes(999) == "999 B"
    assert human_bytes(98_300_000) == "98.3 MB"
    assert human_bytes(4_920_000_000) == "4.9 GB"
    assert human_bytes(3e15) == "3000.0 TB"


def test_speeds_below_one_byte_per_second_are_shown_as_bytes():
    assert human_bytes(0.4) == "0 B"
