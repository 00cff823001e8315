"""The app's API server and its chats share one engine: a chat reply joins an API request's batch.

With the server switched on, the loaded model is loaded again with two sequences (each with the
whole context), so a short chat reply finishes while a long API reply is still streaming instead
of waiting until it ends."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import httpx
import pytest

from app.engine import SamplingParams
from app.remote_endpoints import EndpointStore
from app.ui.server_settings import ServerSettingsDialog
from tests.support.real_models import test_models_dir as models_dir
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply
from tests.ui.test_journeys import assistant_cards, click


def stream_reply(url: str, max_tokens: int, seen: list[float], ended: list[float]) -> None:
    story = "Write a long story about a dragon who learns to bake bread."
    body = {"model": "m", "messages": [{"role": "user", "content": story}],
            "max_tokens": max_tokens, "temperature": 0, "stream": True, "logprobs": True}
    with httpx.stream("POST", url + "/chat/completions", json=body, timeout=120) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]" and json.loads(line[6:])["choices"]:
                seen.append(time.monotonic())  # a piece of the reply (the random model writes few visible ones)
    ended.append(time.monotonic())


def switch_server_on(qtbot, window, tmp_path) -> ServerSettingsDialog:
    dialog = ServerSettingsDialog(window.engine.client, window.api_server,
                                  EndpointStore(tmp_path, use_keyring=False), window.tasks)
    qtbot.addWidget(dialog)
    dialog.server_switch.setChecked(True)
    qtbot.waitUntil(lambda: dialog.url_edit_out.text() != "", timeout=15_000)
    return dialog


def test_a_chat_reply_joins_an_api_reply_instead_of_waiting_behind_it(qtbot, window, smollm2, tmp_path):
    page = window.chat_page
    load(qtbot, window, smollm2, n_ctx=1024)
    assert window.engine.info.n_parallel == 1  # no server: the model as the user loaded it
    dialog = switch_server_on(qtbot, window, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.engine.info is not None and window.engine.info.n_parallel == 2,
                        timeout=30_000)  # loaded again, with room for two replies
        assert window.engine.info.n_ctx == 1024  # each of them with the whole context chosen
        seen: list[float] = []
        ended: list[float] = []
        api = threading.Thread(target=stream_reply, args=(dialog.url_edit_out.text(), 300, seen, ended))
        api.start()
        qtbot.waitUntil(lambda: len(seen) >= 3, timeout=30_000)  # the API reply is streaming
        page.sampling.set_params(replace(SamplingParams(), temperature=0.0, max_tokens=4), emit=True)
        type_and_send(qtbot, page, "Hi")
        wait_reply(qtbot, page)
        chat_done = time.monotonic()
        api.join(120)
        assert page.messages.item(1).stats["completion_tokens"] == 4
        assert ended and chat_done < ended[0], "the chat reply waited for the API reply to end"
        assert ended[0] - chat_done > 0.5  # the API reply went on after the chat's ended
    finally:
        dialog.server_switch.setChecked(False)
        qtbot.waitUntil(lambda: window.api_server.server is None, timeout=10_000)
    qtbot.waitUntil(lambda: window.engine.info is not None and window.engine.info.n_parallel == 1,
                    timeout=30_000)  # the server off: one sequence again, its memory given back


def test_with_the_server_on_a_regenerated_greedy_reply_is_the_first_one_again(qtbot, window, tmp_path):
    """The batching engine keeps a prompt's last logits: the same chat again reads nothing and picks from
    them (evaluated again alone, Gemma 3's came out 0.04 apart: a near tie could flip)."""
    gemma3 = models_dir() / "gemma-3-270m-q4_k_m.gguf"
    if not gemma3.exists():
        pytest.skip(f"{gemma3} is not cached")
    page = window.chat_page
    load(qtbot, window, gemma3, n_ctx=1024)
    dialog = switch_server_on(qtbot, window, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.engine.info is not None and window.engine.info.n_parallel == 2,
                        timeout=30_000)
        page.sampling.set_params(replace(SamplingParams(), temperature=0.0, max_tokens=12), emit=True)
        type_and_send(qtbot, page, "Name one colour.")
        wait_reply(qtbot, page)
        first = assistant_cards(window)[0].item
        assert first.content and not first.error
        click(qtbot, assistant_cards(window)[0], "Regenerate message")
        wait_reply(qtbot, page)
        again = assistant_cards(window)[0]
        assert again.counter.text() == "2/2"
        assert again.item.content == first.content
        assert again.item.stats["cached_tokens"] == again.item.stats["prompt_tokens"]  # nothing read again
    finally:
        dialog.server_switch.setChecked(False)
        qtbot.waitUntil(lambda: window.api_server.server is None, timeout=10_000)
