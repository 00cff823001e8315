"""New chat: a chat with nothing in it is reused, so the list never fills with empty "New chat" rows."""

from __future__ import annotations

from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply
from tests.ui.test_journeys import click


def listed(window) -> list[int]:
    return [chat.id for chat in window.store.chats()]


def test_new_chat_twice_keeps_one_empty_chat_and_a_used_one_gets_a_new_one(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    click(qtbot, window, "New chat")
    first = page.chat_id
    click(qtbot, window, "New chat")
    assert page.chat_id == first and listed(window).count(first) == 1
    assert len(listed(window)) == len(set(listed(window)))
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    click(qtbot, window, "New chat")
    assert page.chat_id != first and first in listed(window)
    assert page.composer.edit.toPlainText() == ""


def test_a_chat_with_only_a_system_prompt_is_not_reused(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    click(qtbot, window, "New chat")
    first = page.chat_id
    page.system_prompt.setPlainText("You are terse.")
    click(qtbot, window, "New chat")
    assert page.chat_id != first
