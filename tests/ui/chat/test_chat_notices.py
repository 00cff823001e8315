"""What the chat page says around a reply: the no-model notice goes once a model loads; each chat shows
its own speed."""

from __future__ import annotations

from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply


def test_load_a_model_first_goes_away_once_a_model_is_loaded(qtbot, window, scripted_model):
    page = window.chat_page
    window.menus.new_chat.trigger()
    type_and_send(qtbot, page, "Hello")
    assert page.notice.isVisible() and page.notice.text().startswith("Load a model first")
    load(qtbot, window, scripted_model)
    assert not page.notice.isVisible() and page.notice.text() == ""


def test_a_new_chat_does_not_show_the_previous_chats_speed(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    first = page.chat_id
    assert "tok/s" in page.meter.speed.text()
    window.menus.new_chat.trigger()
    assert page.chat_id != first and page.meter.speed.text() == ""
    window.sidebar.select(first)  # back to the first chat: its own last speed again
    assert page.chat_id == first and "tok/s" in page.meter.speed.text()


def test_a_long_first_message_titles_the_chat_with_an_ellipsis(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    window.menus.new_chat.trigger()
    type_and_send(qtbot, page, "Please explain how the tides of the ocean are caused by the moon and the sun")
    wait_reply(qtbot, page)
    title = window.store.chat(page.chat_id).title
    assert title == "Please explain how the tides of the ocean are…" and page.title.text() == title
    assert title in [c.title for c in window.sidebar.model.chats()]
