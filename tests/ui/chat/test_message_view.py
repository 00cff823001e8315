"""Message cards in the real window at its default size: nothing clipped, Copy says it copied."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication, QToolButton

from app.engine import SamplingParams
from app.ui.chat.message_model import ChatItem, MessageModel
from app.ui.chat.message_view import MessageCard, MessageListView
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply


def button(card, name: str) -> QToolButton:
    return next(b for b in card.findChildren(QToolButton) if b.accessibleName() == name)


def settle_layout() -> None:
    """Let the posted layout requests run, so the geometry read next is the one on screen."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def right_edge_in_view(view, widget) -> int:
    return widget.mapTo(view.viewport(), QPoint(widget.width(), 0)).x()


def test_a_reply_with_alternatives_and_its_settings_line_fits_the_default_window(qtbot, window, scripted_model):
    assert (window.width(), window.height()) == (1280, 820)
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.sampling.set_params(SamplingParams(temperature=0.7, top_p=0.95, top_k=40, min_p=0.05, seed=1234567890),
                             emit=True)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    qtbot.mouseClick(button(page.view.cards()[1], "Regenerate message"), Qt.MouseButton.LeftButton)
    wait_reply(qtbot, page)
    card = page.view.cards()[1]
    qtbot.waitUntil(lambda: card.counter.isVisible() and "seed 1234567890" in card.stats.text())
    settle_layout()
    view = page.view
    assert right_edge_in_view(view, card) <= view.viewport().width()
    for name in ("Copy message", "Regenerate message", "Regenerate with… message", "Next alternative"):
        assert right_edge_in_view(view, button(card, name)) <= view.viewport().width(), name
    assert right_edge_in_view(view, card.stats) <= view.viewport().width()
    assert card.body.isVisible() and card.body.width() > 200  # the reply text is not squeezed out
    user_card = page.view.cards()[0]
    assert right_edge_in_view(view, button(user_card, "Edit message")) <= view.viewport().width()


def test_copy_puts_the_message_on_the_clipboard_and_says_copied_for_a_moment(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    copy = button(page.view.cards()[1], "Copy message")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == " Hello world"
    assert copy.text() == "Copied"
    qtbot.waitUntil(lambda: copy.text() == "Copy", timeout=4000)


def test_offering_some_buttons_keeps_the_widgets_own_actions(qtbot):
    """A view offering copy only (as a Compare column does) hides Regenerate, and its cards and the view still
    answer QWidget.actions() (an attribute of that name once hid it: calling it raised TypeError)."""
    model = MessageModel()
    view = MessageListView(actions=frozenset({"copy"}))
    qtbot.addWidget(view)
    view.set_model(model)
    model.set_items([ChatItem(1, "user", "Hi"), ChatItem(2, "assistant", "Hello")])
    user, reply = view.cards()
    assert button(user, "Copy message").isVisibleTo(user) and not button(user, "Edit message").isVisibleTo(user)
    assert not button(reply, "Regenerate message").isVisibleTo(reply)
    every = MessageCard(ChatItem(3, "assistant", "Hello"))
    qtbot.addWidget(every)
    assert button(every, "Regenerate message").isVisibleTo(every)
    shortcut = QAction("Copy the reply", reply)
    reply.addAction(shortcut)
    assert reply.actions() == [shortcut] and view.actions() == [] and every.actions() == []
