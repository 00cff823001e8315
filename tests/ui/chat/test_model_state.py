"""One truth about the chat's model: the picker's line says whether the shown model is loaded,
Send loads the shown model first, picking the loaded one again does nothing, Eject frees it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import load, wait_reply


def send(qtbot, page, text: str) -> None:
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, text)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return)


def test_reopening_a_chat_shows_its_model_as_not_loaded_and_send_loads_it(qtbot, window, scripted_model,
                                                                           thinking_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    send(qtbot, page, "Hi")
    wait_reply(qtbot, page)
    first_chat = page.chat_id
    load(qtbot, window, thinking_model)  # a new chat with another model
    send(qtbot, page, "Hi")
    wait_reply(qtbot, page)
    assert window.engine.info.path == str(thinking_model)

    page.open_chat(first_chat)
    assert page.load_settings.current_path() == str(scripted_model)
    status = page.load_settings.status.text()
    assert "is not loaded" in status and "thinking" in status.lower().split("loaded now")[1]  # what is loaded
    with qtbot.waitSignal(window.engine.loaded, timeout=30000) as loaded:
        send(qtbot, page, "Again")
    assert loaded.args[1].path == str(scripted_model)  # the model the picker shows answers
    wait_reply(qtbot, page)
    assert page.messages.items()[-1].content == " Hello world"
    assert "is not loaded" not in page.load_settings.status.text()


def test_picking_the_loaded_model_again_does_not_reload_it(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    picker = page.load_settings.picker
    loads: list = []
    window.engine.loaded.connect(lambda _job_id, info: loads.append(info))
    picker.activated.emit(picker.currentIndex())  # the user chooses the entry already shown
    qtbot.wait(300)
    assert loads == [] and not page.session.loading
    assert "not loaded" not in page.load_settings.status.text()


def test_eject_frees_the_model_and_says_how_much_memory(qtbot, window, smollm2):
    page = window.chat_page
    load(qtbot, window, smollm2)
    eject = page.load_settings.eject_button
    assert eject.isVisible() and eject.accessibleName() == "Eject model"
    with qtbot.waitSignal(window.engine.ejected, timeout=30000) as ejected:
        qtbot.mouseClick(eject, Qt.MouseButton.LeftButton)
    assert ejected.args[1] > 50 * 1024**2  # the 98 MB file's pages and the KV cache were let go
    assert window.engine.info is None and not eject.isVisible()
    assert page.load_settings.status.text().startswith("Ejected ") and "freed" in page.load_settings.status.text()
    with qtbot.waitSignal(window.engine.loaded, timeout=30000):  # Send brings it back
        send(qtbot, page, "Hi")
    wait_reply(qtbot, page)


def test_a_slow_prompt_shows_how_far_it_has_been_read(qtbot, window, scripted_model):
    page = window.chat_page
    load(qtbot, window, scripted_model)
    with qtbot.waitSignal(page.session.speed) as first:
        send(qtbot, page, "Hi")
    assert first.args == ["waiting for the first token…"]
    job = page.session._stream.job
    window.engine.reading.emit(job, 3200, 4100)  # what the engine says while it reads a long prompt
    assert page.meter.speed.text() == "Reading the prompt: 3,200 of 4,100 tokens…"
    wait_reply(qtbot, page)
