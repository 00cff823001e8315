"""Show prompt and the chat-template override in the load settings."""

from __future__ import annotations

from tests.ui.conftest import load


def test_show_prompt_shows_the_engine_rendering(qtbot, window, scripted_model):
    load(qtbot, window, scripted_model)
    page = window.chat_page
    page.system_prompt.setPlainText("Be <|im_end|> brief.")
    window.menus.show_prompt.trigger()
    qtbot.waitUntil(lambda: _dialog(page) is not None, timeout=10000)
    dialog = _dialog(page)
    text = dialog.text.toPlainText()
    expected = page.engine.client.render_prompt(page.history())
    assert text == expected.prompt
    assert text.startswith("<|im_start|>system\nBe <|im_end|> brief.<|im_end|>\n")
    assert dialog.text.isReadOnly()
    dialog.close()


def _dialog(page):
    from app.ui.chat.prompt_dialog import PromptDialog

    found = page.findChildren(PromptDialog)
    return found[0] if found else None


def test_template_file_reaches_the_load_options_and_reset_clears_it(qtbot, window, tmp_path):
    picker = window.chat_page.load_settings.template
    path = tmp_path / "t.jinja"
    path.write_text("{% for m in messages %}{{ m.content }}{% endfor %}", encoding="utf-8")
    picker.set_file(str(path))
    assert window.chat_page.load_settings.options("/x.gguf").chat_template_file == str(path)
    assert not picker.problem.isVisibleTo(picker)
    picker.set_file(str(tmp_path / "missing.jinja"))
    assert picker.problem.isVisibleTo(picker) and "No file at" in picker.problem.text()
    picker.reset.click()
    assert window.chat_page.load_settings.options("/x.gguf").chat_template_file == ""


def test_a_bad_template_file_says_why_the_model_did_not_load(qtbot, window, scripted_model, tmp_path):
    page = window.chat_page
    path = tmp_path / "bad.jinja"
    path.write_text("{% for %}", encoding="utf-8")
    load(qtbot, window, scripted_model)
    page.load_settings.template.set_file(str(path))
    page.load_model(page.load_settings.options())
    qtbot.waitUntil(lambda: "not valid Jinja" in page.load_settings.status.text(), timeout=30000)
    assert "Could not load the model" in page.load_settings.status.text()


def test_the_template_override_is_remembered_per_model(qtbot, make_window, scripted_model, tmp_path):
    path = tmp_path / "mine.jinja"
    path.write_text("{% for m in messages %}[{{ m.content }}]{% endfor %}", encoding="utf-8")
    window = make_window()
    page = window.chat_page
    load(qtbot, window, scripted_model)
    page.load_settings.template.set_file(str(path))
    with qtbot.waitSignal(page.model_loaded, timeout=30000) as blocker:
        page.load_model(page.load_settings.options())
    assert blocker.args[0].chat_template == "file"
    window.close()
    again = make_window()
    assert again.settings.chat_template_files == {str(scripted_model): str(path)}
    assert load(qtbot, again, scripted_model).chat_template == "file"  # opening that model again uses it
    assert again.chat_page.load_settings.template.file() == str(path)
