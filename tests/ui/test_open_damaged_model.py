"""File -> Open (and `hearth --model`) on a damaged or endless header: a plain dialog within the deadline."""

from __future__ import annotations

from app.library import gguf_info
from tests.support import hostile_gguf as hostile


def _warnings(monkeypatch) -> list[str]:
    from app.ui import main_window

    shown: list[str] = []
    def warning(parent, title: str, text: str) -> None:
        shown.append(text.replace("\xa0", " "))  # the dialog's HTML keeps words together

    monkeypatch.setattr(main_window.QMessageBox, "warning", warning)
    return shown


def test_opening_a_header_that_never_ends_says_so_within_the_deadline(qtbot, window, tmp_path, monkeypatch):
    shown = _warnings(monkeypatch)
    monkeypatch.setattr(gguf_info, "HEADER_TIME_LIMIT", 0.3)
    slow = hostile.slow_vocabulary(tmp_path / "slow.gguf")  # millions of strings: seconds to walk
    window.model_opener.open_with_model(str(slow))
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "took too long" in shown[0] and "slow.gguf" in shown[0]


def test_opening_a_damaged_header_names_the_damage(qtbot, window, tmp_path, monkeypatch, smollm2):
    shown = _warnings(monkeypatch)
    damaged = hostile.flip_vocabulary_length_bits(smollm2, tmp_path / "damaged.gguf")
    window.model_opener.open_with_model(str(damaged))
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "the GGUF header is damaged" in shown[0] and "Error" not in shown[0]


def test_opening_a_model_of_an_unknown_architecture_says_which_in_the_chat(qtbot, window, broken_models):
    window.model_opener.open_with_model(str(broken_models["wrong_arch"]))
    status = window.chat_page.load_settings.status
    qtbot.waitUntil(lambda: "does not know it" in status.text(), timeout=30000)
    assert "This model's architecture is `notarealarch`; the llama.cpp in this Hearth (" in status.text()
