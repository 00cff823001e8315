"""The Compare view in the real window, with the real engine and tiny models (and SmolLM2 when cached)."""

from __future__ import annotations

import os
import signal

from PySide6.QtCore import Qt

from app.engine import SamplingParams
from app.store import ConversationStore
from app.ui.compare.compare_controller import CompareController

GREEDY = SamplingParams(temperature=0.0, max_tokens=8)


def setup(window, paths, mode: str, sampling: SamplingParams = GREEDY, n_ctx: int = 512):
    page = window.compare_page
    window.show_page(page)
    controller = page.controller
    controller.new([str(p) for p in paths], lambda path: ({"n_ctx": n_ctx, "n_gpu_layers": 0}, sampling))
    controller.set_run_mode(mode)
    return page, controller


def run(qtbot, page, prompt: str, timeout: int = 60000) -> None:
    page.composer.edit.setPlainText(prompt)
    qtbot.mouseClick(page.composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.controller.busy, timeout=timeout)


def replies(controller: CompareController) -> list[str]:
    return [[i.content for i in c.session.messages.items() if i.role == "assistant"][-1] for c in controller.columns]


def test_one_at_a_time_runs_each_column_on_one_engine_and_never_holds_two_models(
        qtbot, window, scripted_model, tiny_model):
    page, controller = setup(window, [scripted_model, tiny_model], "one_at_a_time")
    assert len(page.views) == 2 and "One at a time" in page.plan_line.text()
    assert page.mode.currentData() == "one_at_a_time"
    held: list[int] = []  # engine processes alive each time a model finishes loading
    window.engine.loaded.connect(lambda _job, _info: held.append(
        sum(e.client.alive for e in [window.engine, *controller.extra_engines])))
    states: list[tuple[str, str]] = []
    controller.column_changed.connect(lambda i: states.append((i, controller.columns[i].state)))
    run(qtbot, page, "Hello")
    assert replies(controller)[0] == " Hello world" and replies(controller)[1]
    assert controller.extra_engines == [] and held == [1, 1]
    # column 2 started loading only after column 1's reply was done: the first model is freed first
    assert states.index((1, "loading")) > states.index((0, "done"))
    for view in page.views:
        rows = {view.stats.itemAt(r, view.stats.ItemRole.LabelRole).widget().text():
                view.stats.itemAt(r, view.stats.ItemRole.FieldRole).widget().text()
                for r in range(view.stats.rowCount())}
        assert rows["First token"].endswith(" s") and rows["Speed"].endswith("tok/s")
        assert "/ 512" in rows["Context used"] and rows["Memory"] != "unknown"
    assert [c.stats["completion_tokens"] for c in controller.columns] == [2, 8]
    marks = [v.marks.text() for v in page.views]
    assert "shortest reply" in marks[0] and "longest reply" in marks[1]
    # a follow-up continues each column's own conversation
    run(qtbot, page, "And again")
    assert [len(c.session.messages.items()) for c in controller.columns] == [4, 4]


def test_together_runs_on_separate_engines_and_a_crashed_column_leaves_the_other_running(
        qtbot, window, scripted_model, tiny_model):
    long = SamplingParams(temperature=0.0, max_tokens=4000)
    page, controller = setup(window, [tiny_model, scripted_model], "together", long)
    controller.configure_column(1, str(scripted_model), {"n_ctx": 512, "n_gpu_layers": 0}, GREEDY)
    page.composer.edit.setPlainText("Hello")
    qtbot.mouseClick(page.composer.send_button, Qt.MouseButton.LeftButton)
    assert len(controller.extra_engines) == 1 and "Together" in page.plan_line.text()
    qtbot.waitUntil(lambda: controller.columns[0].state == "writing"
                    and bool(controller.columns[0].session.messages.items()[-1].content), timeout=30000)
    os.kill(controller.columns[0].session.engine.client.pid, signal.SIGKILL)  # the first column's engine dies
    qtbot.waitUntil(lambda: not controller.busy, timeout=30000)
    first, second = controller.columns
    assert first.state == "failed" and "stopped unexpectedly" in first.message
    assert second.state == "done" and replies(controller)[1] == " Hello world"
    assert "Failed" in page.views[0].status.text()


def test_stop_stops_every_column(qtbot, window, tiny_model, scripted_model):
    page, controller = setup(window, [tiny_model, scripted_model], "one_at_a_time")
    page.composer.edit.setPlainText("Hello")
    qtbot.mouseClick(page.composer.send_button, Qt.MouseButton.LeftButton)
    assert controller.columns[0].state == "loading" and controller.columns[1].state == "waiting"
    assert page.composer.stop_button.isVisibleTo(page) and not page.composer.send_button.isVisibleTo(page)
    qtbot.mouseClick(page.composer.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.busy, timeout=10000)
    assert [c.state for c in controller.columns] == ["stopped", "stopped"]
    assert [c.session.messages.rowCount() for c in controller.columns] == [0, 0]  # nothing was asked
    assert page.composer.send_button.isVisibleTo(page) and not page.composer.stop_button.isVisibleTo(page)


def test_a_comparison_is_saved_reopened_and_exported(qtbot, window, scripted_model, tmp_path):
    page, controller = setup(window, [scripted_model, scripted_model], "one_at_a_time")
    run(qtbot, page, "Capital of France?")
    saved_id = controller.comparison.id
    assert controller.comparison.title == "Capital of France?"
    assert window.store.chats() == []  # the columns' conversations are not in the chat list
    count = window.store.store.db.execute("SELECT COUNT(*) FROM chats WHERE comparison_id = ?", (saved_id,))
    assert count.fetchone()[0] == 2
    # another controller on the same database (the app after a restart) reopens it with replies and numbers
    again = CompareController(ConversationStore(window.store.path), window.engine, lambda: None,
                              controller._need_of, lambda: (0, 0))
    assert again.open(saved_id)
    assert replies(again) == [" Hello world", " Hello world"]
    assert again.columns[0].stats["completion_tokens"] == 2 and again.columns[0].stats["n_ctx"] == 512
    out = tmp_path / "compare.md"
    assert page.export(str(out))
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Capital of France?") and "## Prompt 1" in md and "> Capital of France?" in md
    assert md.count("| tiny scripted · F32") == 2 and "tok/s" in md
    assert md.count(" Hello world".strip()) == 2
    # New comparison, then back: the saved list offers the old one
    controller.new([str(scripted_model)], lambda path: ({"n_ctx": 512}, GREEDY))
    assert controller.comparison.id != saved_id and page.saved.findData(saved_id) >= 0
    page.saved.setCurrentIndex(page.saved.findData(saved_id))
    page.saved.activated.emit(page.saved.currentIndex())
    assert controller.comparison.id == saved_id and len(page.views) == 2


def test_new_comparison_without_models_says_what_to_do(qtbot, window):
    page = window.compare_page
    window.show_page(page)
    page.new_comparison()  # the test library is empty
    assert page.controller.comparison is None and "download one in Discover" in page.empty.text()


def test_the_real_model_answers_in_compare_as_it_does_in_a_chat(qtbot, window, smollm2):
    from app.engine import ChatMessage, Done, EngineClient, LoadOptions

    prompt = "What is the capital of France? Answer in one short sentence."
    sampling = SamplingParams(temperature=0.0, max_tokens=24)
    page, controller = setup(window, [smollm2], "one_at_a_time", sampling)
    run(qtbot, page, prompt, timeout=120000)
    client = EngineClient()
    try:
        client.load(LoadOptions(path=str(smollm2), n_ctx=512, n_gpu_layers=0))
        done = next(e for e in client.chat([ChatMessage("user", prompt)], sampling) if isinstance(e, Done))
    finally:
        client.close()
    assert "Paris" in replies(controller)[0]
    assert replies(controller)[0] == done.text
    assert controller.columns[0].stats["completion_tokens"] == done.stats.completion_tokens


def test_columns_start_fair_a_bad_model_fails_alone_and_the_models_settings_are_remembered(
        qtbot, window, scripted_model, broken_models):
    page, controller = setup(window, [scripted_model, broken_models["not_gguf"], scripted_model], "one_at_a_time")
    loads: list[str] = []
    window.engine.loaded.connect(lambda _job, info: loads.append(info.path))
    messages: list[str] = []
    controller.column_changed.connect(lambda i: messages.append(controller.columns[i].message))
    marks_while_busy: list[str] = []
    controller.column_changed.connect(
        lambda _i: marks_while_busy.extend(v.marks.text() for v in page.views if controller.busy))
    run(qtbot, page, "Hello")
    first, bad, third = controller.columns
    assert first.state == third.state == "done"
    assert [i.content for c in (first, third) for i in c.session.messages.items() if i.role == "assistant"] == [
        " Hello world", " Hello world"]
    assert bad.state == "failed" and "Could not load the model" in bad.message and not bad.stats
    assert "Failed" in page.views[1].status.text()
    # the third column has the first one's model, but loads it afresh: no other column's prompt in its cache
    assert loads == [str(scripted_model), str(scripted_model)]
    assert any(m.startswith("Loading tiny-scripted.gguf… ") and m.endswith("%") for m in messages)
    assert not any(marks_while_busy)  # marks wait until every column has finished
    assert "fastest" in page.views[0].marks.text() + page.views[2].marks.text()
    # what the columns ran with is remembered as the model's defaults (the chat page offers them too)
    assert str(scripted_model) in window.settings.model_defaults
    # a follow-up reloads for the first column (the third one used the engine last), then its own
    # loaded model and cache are reused
    controller.remove_column(2)
    controller.remove_column(1)
    run(qtbot, page, "Again")
    assert len(loads) == 3
    run(qtbot, page, "And once more")
    assert len(loads) == 3 and len(controller.columns[0].session.messages.items()) == 6


def test_compare_and_the_chat_take_turns_on_the_shared_engine(qtbot, window, scripted_model, tiny_model):
    from tests.ui.conftest import load, wait_reply

    chat = window.chat_page
    load(qtbot, window, tiny_model)
    chat.sampling.set_params(SamplingParams(temperature=0.0, max_tokens=3000), emit=True)
    chat.composer.set_text("A long one")
    chat.composer.send_button.click()
    assert chat.streaming
    page, controller = setup(window, [scripted_model], "one_at_a_time")
    page.composer.edit.setPlainText("Hello")
    qtbot.mouseClick(page.composer.send_button, Qt.MouseButton.LeftButton)
    assert not controller.busy and "A chat reply is being written" in page.plan_line.text()
    assert page.composer.edit.toPlainText() == "Hello"  # the prompt is kept to send later
    chat.session.stop()
    wait_reply(qtbot, chat)
    qtbot.mouseClick(page.composer.send_button, Qt.MouseButton.LeftButton)
    assert controller.busy and not chat.isEnabled()  # the chat waits while Compare uses the engine
    qtbot.waitUntil(lambda: not controller.busy, timeout=30000)
    assert chat.isEnabled() and replies(controller) == [" Hello world"]


def test_a_full_disk_never_breaks_the_comparisons_own_rows(qtbot, window, scripted_model, monkeypatch):
    import sqlite3

    page, controller = setup(window, [scripted_model, scripted_model], "one_at_a_time")
    notices: list[str] = []
    controller.notice.connect(notices.append)

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    for name in ("update_comparison", "delete_comparison", "create_comparison", "create_chat", "delete_chat"):
        monkeypatch.setattr(window.store.store, name, full)  # the disk under the one writer
    controller.rename("Colours")
    controller.set_run_mode("together")
    controller.configure_column(0, str(scripted_model), {"n_ctx": 512}, GREEDY)
    assert not controller.remove_column(1) and len(controller.columns) == 2
    controller.delete()
    assert controller.comparison is not None  # still there, and it said why
    assert not controller.add_column(str(scripted_model), {"n_ctx": 512}, GREEDY)
    assert len(notices) == 6 and all("disk is full" in n or "full" in n for n in notices)
