"""The window's token view: a reply tinted by confidence, its alternatives, and "what if" surviving a restart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from app.engine.sampling import SamplingParams
from app.engine.token_probs import TokenChoice, TokenProbs
from app.ui.chat.token_view import tint, tokens_html, visible
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply


def test_tokens_are_tinted_by_doubt_and_whitespace_is_visible():
    assert tint(1.0) == "transparent" and tint(0.2) != tint(0.9)
    assert visible(" a\tb\n") == "·a→b↵"
    steps = (TokenProbs(TokenChoice(1, b" <b>", -0.01)), TokenProbs(TokenChoice(2, b"\n", -2.0)))
    html = tokens_html(steps, forced_at=1)
    assert "&lt;b&gt;" in html and 'href="t:1"' in html and "underline" in html and "↵<br>" in html


def test_a_what_if_from_the_token_view_is_a_new_alternative_that_survives_a_restart(qtbot, make_window,
                                                                                     scripted_model):
    window = make_window()
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.session.set_sampling(SamplingParams(temperature=0.0, max_tokens=6))
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    card = page.view.cards()[1]
    button = card.buttons["tokens"]
    assert button.isVisibleTo(card)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert card.tokens.isVisibleTo(card) and not card.body.isVisibleTo(card)
    assert len(card.tokens.steps) == 2 and "2 tokens" in card.tokens.legend.text()
    card.tokens.select(1)
    labels = [w.text() for w in card.tokens.details.findChildren(QLabel)]
    assert "Token 2 of 2" in labels[0] and len(labels) == 1 + 5
    what_ifs = [b for b in card.tokens.details.findChildren(QPushButton) if b.text() == "What if…"]
    assert len(what_ifs) == 4  # every alternative but the picked one
    chart = card.tokens.open_chart(1)
    assert chart.spins["temperature"].value() == 0.0  # the chat's settings (they wrote the reply)
    assert chart.bars.bars[0].after == 1.0  # greedy: the best candidate always
    chart.spins["temperature"].setValue(1.5)
    chart.spins["top_k"].setValue(1)  # the sliders redraw the chart at once
    assert [b.cut_by for b in chart.bars.bars][1:] == ["top-k"] * (len(chart.bars.bars) - 1)
    chart.close()
    qtbot.mouseClick(what_ifs[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.messages.item(1).alternatives == 2, timeout=10000)
    wait_reply(qtbot, page)
    reply = page.messages.item(1)
    assert reply.probs is not None and reply.probs.forced_at == 1 and reply.content.startswith(" Hello")
    assert reply.content != " Hello world"
    chat_id = page.chat_id
    window.close()

    again = make_window()
    assert again.chat_page.chat_id == chat_id
    saved = again.chat_page.messages.item(1)
    assert (saved.alternative, saved.alternatives, saved.content) == (2, 2, reply.content)
    assert saved.probs == reply.probs
    card = again.chat_page.view.cards()[1]
    qtbot.mouseClick(card.buttons["tokens"], Qt.MouseButton.LeftButton)
    assert "“what if” from token 2" in card.tokens.legend.text()
