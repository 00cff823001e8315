"""Per-model defaults in the window: a model brings back the load settings and sampling it was last used with."""

from __future__ import annotations

from dataclasses import replace

from app.engine import SamplingParams
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import load, wait_reply


def test_a_model_brings_back_its_settings_and_a_chats_own_sampling_still_wins(qtbot, window, scripted_model,
                                                                               tiny_model):
    page = window.chat_page
    load(qtbot, window, tiny_model, n_ctx=512)
    with qtbot.waitSignal(page.model_loaded, timeout=20000,
                          check_params_cb=lambda info: info.name == "tiny scripted · F32"):
        window.model_opener.open_with_model(str(scripted_model))  # loaded with the panel's 512 too
    page.load_settings.ctx.setValue(1536)
    with qtbot.waitSignal(page.model_loaded, timeout=20000):
        page.load_settings.load_button.click()  # scripted: last used with a 1536-token context
    remembered = window.settings.model_defaults[str(scripted_model)]["load"]
    assert remembered["n_ctx"] == 1536
    # a reply remembers the sampling it was written with
    page.sampling.set_params(replace(SamplingParams(), temperature=0.0, top_k=17), emit=True)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, page)
    first_chat = page.chat_id
    # picking the other model shows its own last settings; coming back restores scripted's
    picker = page.load_settings.picker
    picker.setCurrentIndex(picker.findData(str(tiny_model)))
    assert page.load_settings.ctx.value() == 512
    picker.setCurrentIndex(picker.findData(str(scripted_model)))
    assert page.load_settings.ctx.value() == 1536
    # a new chat starts with the model's sampling ...
    page.sampling.set_params(replace(SamplingParams(), temperature=0.9), emit=True)  # first chat: now 0.9
    window.new_chat()
    assert page.sampling.params().top_k == 17 and page.sampling.params().temperature == 0.0
    # ... but an existing chat keeps its own
    window.sidebar.select(first_chat)
    assert page.sampling.params().temperature == 0.9
    # Reset to model defaults: this chat takes the model's sampling, saved for the chat
    window.menus.reset_defaults.trigger()
    assert page.sampling.params().top_k == 17
    assert SamplingParams.from_dict(window.store.chat(first_chat).sampling).top_k == 17
