"""The token strip's drawing: alternating tints, visible whitespace, control tokens in bold, split characters."""

from __future__ import annotations

from app.ui.chat.token_strip import SPECIAL, TINTS, TokenStrip, count_words, strip_html, token_text


def test_tokens_alternate_tints_show_their_whitespace_and_control_tokens_stand_out():
    tokens = [(1, b"<|im_start|>", True), (2, b"Hi", False), (3, b" there\n", False), (4, b"<b>", False)]
    html = strip_html(tokens)
    assert html.count(SPECIAL) == 1 and TINTS[0] in html and TINTS[1] in html
    assert "·there↵<br>" in html and "&lt;b&gt;" in html and 'href="k:3"' in html
    assert "font-weight: bold" in html
    assert count_words(tokens, 20).startswith("4 tokens (1 of them the template's special tokens")


def test_a_piece_of_a_split_character_shows_as_its_bytes():
    assert token_text("é".encode()[:1]) == "<0xC3>" and token_text(" é".encode()) == " é"


def test_the_strip_counts_its_tokens_and_names_each_on_hover(qtbot):
    strip = TokenStrip("Message tokens")
    qtbot.addWidget(strip)
    strip.set_tokens([(9906, b"Hello", False), (905, b" world", False)])
    assert strip.count.text().startswith("2 tokens") and strip.tip(1) == "“ world” · id 905 · token 2 of 2"
    strip.set_note("Load a model to see its tokens")
    assert strip.tokens == () and strip.count.text() == "Load a model to see its tokens"


def test_without_a_model_the_drafts_tokens_say_to_load_one_and_no_engine_starts(qtbot, window):
    page = window.chat_page
    page.composer.set_text("Hello")
    page.composer.tokens_button.click()
    strip = page.composer.token_strip
    qtbot.waitUntil(lambda: "Load a model" in strip.count.text(), timeout=5000)
    assert strip.tokens == () and not window.engine.client.alive
