"""The app's API server answers with the chat's engine: API requests and GUI replies take turns in it,
and stopping one (the GUI's Stop, an API client hanging up) never stops or ends the other."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import httpx

from app.engine import SamplingParams
from app.server.background import BackgroundServer
from app.ui.server_settings import served_name
from tests.support.servers import free_port
from tests.ui.chat.test_chat_page import engine_paused, type_and_send
from tests.ui.conftest import load, wait_reply


class ApiStream(threading.Thread):
    """One streaming chat request to the API on a thread; it hangs up after `hang_up_after` chunks if given."""

    def __init__(self, url: str, max_tokens: int, hang_up_after: int | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.max_tokens, self.hang_up_after = url, max_tokens, hang_up_after
        self.texts: list[str] = []
        self.finish: str | None = None
        self.model = ""
        self.tokens = 0  # completion tokens, from the usage chunk (text comes in batches, not per token)
        self.first = threading.Event()

    def run(self) -> None:
        body = {"messages": [{"role": "user", "content": "Tell me a story."}], "max_tokens": self.max_tokens,
                "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
        with httpx.stream("POST", self.url + "/chat/completions", json=body, timeout=60) as response:
            for line in response.iter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[6:])
                self.model = chunk.get("model", self.model)
                self.tokens = (chunk.get("usage") or {}).get("completion_tokens", self.tokens)
                for choice in chunk.get("choices", []):
                    if choice["delta"].get("content"):
                        self.texts.append(choice["delta"]["content"])
                        self.first.set()
                    self.finish = choice["finish_reason"] or self.finish
                if self.hang_up_after is not None and len(self.texts) >= self.hang_up_after:
                    return  # leaving the `with` closes the connection


def gui_reply(page) -> dict:
    return page.messages.item(page.messages.rowCount() - 1).stats


def test_api_and_gui_replies_take_turns_and_stop_only_themselves(qtbot, window, tiny_model):
    page = window.chat_page
    load(qtbot, window, tiny_model, n_ctx=2048)
    engine = window.engine.client
    server = BackgroundServer(engine, lambda: served_name(engine), port=free_port())
    server.start()
    try:
        # Both at once: each reply is whole, and the API names the model the chat has loaded.
        page.sampling.set_params(replace(SamplingParams(), temperature=0.0, max_tokens=40), emit=True)
        api = ApiStream(server.url, max_tokens=40)
        api.start()
        type_and_send(qtbot, page, "Hello")
        wait_reply(qtbot, page)
        api.join(60)
        assert (api.finish, api.tokens, api.model) == ("length", 40, "tiny-chat")
        assert gui_reply(page)["stop_reason"] == "length" and gui_reply(page)["completion_tokens"] == 40

        # The GUI's Stop, while its reply waits for the API's, leaves the API's reply alone.
        api = ApiStream(server.url, max_tokens=1500)  # long enough on a fast CPU for the Cancel to reach it queued
        api.start()
        assert api.first.wait(30)
        with engine_paused(window):  # the API's reply is certainly still running when the GUI's is sent and stopped
            type_and_send(qtbot, page, "Hello again")
            page.session.stop()
        wait_reply(qtbot, page, timeout=5000)
        assert gui_reply(page).get("stop_reason", "cancelled") == "cancelled"
        api.join(60)
        assert (api.finish, api.tokens) == ("length", 1500)

        # An API client hanging up mid-reply leaves the GUI's reply (waiting behind it) alone.
        page.sampling.set_params(replace(SamplingParams(), temperature=0.0, max_tokens=200), emit=True)
        api = ApiStream(server.url, max_tokens=2000, hang_up_after=3)
        api.start()
        assert api.first.wait(30)
        type_and_send(qtbot, page, "And once more")
        api.join(60)
        wait_reply(qtbot, page, timeout=60000)
        assert gui_reply(page)["stop_reason"] == "length" and gui_reply(page)["completion_tokens"] == 200
        qtbot.waitUntil(lambda: server.state.busy is False and server.state.waiting == 0, timeout=10000)
    finally:
        server.stop()
