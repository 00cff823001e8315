"""Going back to a long chat after another, in the real window: the model reads only the new message.

The model's cache holds one conversation; the one it held is kept in RAM when another chat takes
its place (engine/prompt_store.py), so the chat picked again in the list starts where it stopped.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView, QWidget

from tests.ui.test_journeys import (
    CTRL,
    assistant_cards,
    named,
    type_and_send,
    type_number,
    wait_reply,
    window_with,
)

RIVERS = "Here are my notes on rivers. " + " ".join(f"River {i} flows to the sea." for i in range(50))
PEAKS = "Here are my notes on mountains. " + " ".join(f"Mountain {i} is tall." for i in range(50))


def paste_and_send(qtbot, page: QWidget, text: str) -> None:
    box = named(page, "Message", QWidget)
    box.setPlainText(text)  # as pasted: typing a page of notes key by key proves nothing more
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_a_long_chat_picked_again_in_the_list_reads_only_the_new_message(make_window, qtbot, smollm2):
    window, smollm2 = window_with(qtbot, make_window, smollm2)
    page = window.chat_page
    type_number(qtbot, page, "Max tokens", 8)
    paste_and_send(qtbot, page, RIVERS)
    wait_reply(qtbot, window)
    rivers = page.chat_id
    opened = assistant_cards(window)[-1].item.stats

    qtbot.keyClick(window, Qt.Key.Key_N, CTRL)  # New chat
    qtbot.waitUntil(lambda: page.chat_id != rivers, timeout=5000)
    type_number(qtbot, page, "Max tokens", 8)
    paste_and_send(qtbot, page, PEAKS)
    wait_reply(qtbot, window)

    chats = named(window, "Chats", QListView)
    spot = chats.visualRect(chats.model().index(window.sidebar.model.row_of(rivers), 0)).center()
    qtbot.mouseClick(chats.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    qtbot.waitUntil(lambda: page.chat_id == rivers, timeout=5000)
    type_and_send(qtbot, page, "And the longest one?")
    wait_reply(qtbot, window)

    shown = page.view.cards()
    assert [c.item.role for c in shown] == ["user", "assistant", "user", "assistant"]
    assert [c.y() for c in shown] == sorted(c.y() for c in shown)  # drawn in order, the new ones below
    card = assistant_cards(window)[-1]
    stats = card.item.stats
    assert card.item.content and not card.item.error
    assert stats["prompt_tokens"] > opened["prompt_tokens"] > 300
    assert stats["prompt_tokens"] - stats["cached_tokens"] < 40, stats  # the question, not the notes again
    said = named(card, "Message statistics", QWidget).text()  # what the person reads under the reply
    assert "first token" in said
    assert f"prompt {stats['prompt_tokens']:,} tokens, {stats['cached_tokens']:,} cached" in said
