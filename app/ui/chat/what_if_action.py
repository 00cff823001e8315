"""The chat page's "What if…": write a reply again from a token the user picked (chat/what_if.py)."""

from __future__ import annotations

from typing import Protocol

from app.ui.chat.chat_session import ChatSession
from app.ui.chat.model_state import ModelState


class Page(Protocol):
    session: ChatSession
    model_state: ModelState


def what_if(page: Page, row: int, step: int, token_id: int) -> bool:
    """Start the new alternative of the reply at `row`; False (and a notice saying why) when it cannot."""
    session = page.session
    conversation = session.conversation
    if session.streaming:
        session.notice.emit("Wait for the reply to finish (or press Stop) before trying “what if”.")
        return False
    try:
        conversation.choose_what_if(row, step, token_id)
    except (ValueError, IndexError) as exc:
        session.notice.emit(str(exc))
        return False
    page.model_state.load_shown()
    if not session.regenerate(row):
        conversation.what_if = None
        return False
    return True
