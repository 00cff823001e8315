"""Whole journeys through the real window, as a person takes them: buttons found by their
accessible names and clicked, text typed, keys pressed, with the real SmolLM2 model.

Each journey crosses several features (first run, chat, alternatives, Compare, restart,
a full disk) and checks what the person sees and what is on disk at the end.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDoubleSpinBox,
    QInputDialog,
    QSlider,
    QSpinBox,
    QWidget,
)

from app import paths
from app.library import demo_model
from app.store import ConversationStore
from app.ui.application import shutdown
from app.ui.first_run import DEMO_SYSTEM_PROMPT
from tests.support.disks import FullDisk

CTRL = Qt.KeyboardModifier.ControlModifier
REPLY_MS = 120_000


def named(root: QWidget, name: str, kind: type = QAbstractButton) -> QWidget:
    """The one visible widget under `root` whose accessible name (or, for a button, text) is `name`
    (waiting a moment for a view that is being rebuilt to show it)."""
    deadline = time.monotonic() + 5
    while True:
        found = [w for w in root.findChildren(kind) if w.isVisible()
                 and (w.accessibleName() == name or (isinstance(w, QAbstractButton) and w.text() == name))]
        if len(found) == 1 or time.monotonic() > deadline:
            break
        QApplication.processEvents()
        time.sleep(0.02)
    assert len(found) == 1, f"{len(found)} visible widgets named {name!r}"
    return found[0]


def click(qtbot, root: QWidget, name: str) -> None:
    button = named(root, name)
    assert button.isEnabled(), f"{name!r} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_number(qtbot, root: QWidget, name: str, value: int) -> None:
    spin = named(root, name, QSpinBox)
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key.Key_Tab)
    assert spin.value() == value


def type_and_send(qtbot, root: QWidget, text: str) -> None:
    box = named(root, "Message", QWidget)
    qtbot.mouseClick(box.viewport() if hasattr(box, "viewport") else box, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.library.scanning and bool(window.chat_page.load_settings.choices()),
                    timeout=20000)
    if window.pages.currentWidget() is not window.chat_page:  # the welcome card: go to the chat page
        qtbot.keyClick(window, Qt.Key.Key_1, CTRL)
    assert window.pages.currentWidget() is window.chat_page


def wait_reply(qtbot, window) -> None:
    page = window.chat_page
    qtbot.waitUntil(lambda: not page.streaming and not page.session.loading, timeout=REPLY_MS)


def assistant_cards(window):
    return [c for c in window.chat_page.view.cards() if c.item.role == "assistant"]


def user_cards(window):
    return [c for c in window.chat_page.view.cards() if c.item.role == "user"]


def in_library(*models: Path) -> list[Path]:
    """The models as a download leaves them: in Hearth's models folder (links to the cached files)."""
    placed = [paths.models_dir() / model.name for model in models]
    for link, model in zip(placed, models):
        link.symlink_to(model)
    return placed


def choose_model(qtbot, window, path: Path) -> None:
    """Pick a model in the chat page's picker (choosing an entry loads it)."""
    picker = named(window.chat_page, "Model", QWidget)
    index = picker.findData(str(path))
    assert index >= 0, f"{path.name} is not offered"
    with qtbot.waitSignal(window.chat_page.model_loaded, timeout=60000):
        picker.setCurrentIndex(index)
        picker.activated.emit(index)


def window_with(qtbot, make_window, model: Path):
    """A new window with `model` in Hearth's models folder, chosen in the chat page's picker:
    (the window, the model's path in the folder)."""
    (placed,) = in_library(model)
    window = make_window()
    settle(qtbot, window)
    choose_model(qtbot, window, placed)
    return window, placed


def test_first_run_demo_chat_regenerate_alternatives_and_edit(make_window, qtbot, smollm2, monkeypatch):
    demo_model.demo_dir().mkdir(parents=True, exist_ok=True)
    (demo_model.demo_dir() / demo_model.FILE_NAME).symlink_to(smollm2)
    window = make_window()
    page = window.chat_page
    click(qtbot, window, "Chat with the demo model")
    qtbot.waitUntil(lambda: window.engine.info is not None and not page.session.loading, timeout=60000)
    assert window.pages.currentWidget() is page
    # the demo's first chat is set up to answer well: Precise sampling and a short system prompt
    assert named(page, "Sampling preset", QWidget).currentText() == "Precise"
    assert named(page, "System prompt", QWidget).toPlainText() == DEMO_SYSTEM_PROMPT
    type_number(qtbot, page, "Max tokens", 16)
    type_and_send(qtbot, page, "What is the capital of France?")
    wait_reply(qtbot, window)
    first = assistant_cards(window)[0].item
    assert first.content and not first.error and first.stats["completion_tokens"] > 0
    assert "Load a model" not in page.notice.text()

    click(qtbot, assistant_cards(window)[0], "Regenerate message")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[0]
    assert named(card, "Alternative", QWidget).text() == "2/2" and card.item.content
    click(qtbot, card, "Previous alternative")
    qtbot.waitUntil(lambda: assistant_cards(window)[0].counter.text() == "1/2")
    assert assistant_cards(window)[0].item.content == first.content

    monkeypatch.setattr(QInputDialog, "getMultiLineText",
                        staticmethod(lambda *_args, **_kw: ("What is the capital of Italy?", True)))
    click(qtbot, user_cards(window)[0], "Edit message")
    wait_reply(qtbot, window)
    question = user_cards(window)[0]
    assert question.item.content == "What is the capital of Italy?"
    assert named(question, "Alternative", QWidget).text() == "2/2"
    assert assistant_cards(window)[0].item.content and not assistant_cards(window)[0].item.error


def test_chat_then_compare_from_the_gui_then_the_chat_answers_without_a_reload(
        make_window, qtbot, smollm2, scripted_model):
    smollm2, scripted_model = in_library(smollm2, scripted_model)
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    choose_model(qtbot, window, smollm2)
    type_number(qtbot, page, "Max tokens", 12)
    type_and_send(qtbot, page, "Hi!")
    wait_reply(qtbot, window)
    saved = window.settings.model_defaults[str(smollm2)]["load"]
    assert saved["flash_attn"] == "auto"  # what Compare used to hand the engine as is

    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    compare = window.compare_page
    assert window.pages.currentWidget() is compare
    click(qtbot, compare, "New comparison")
    assert len(compare.views) == 2
    type_and_send(qtbot, compare, "Name a colour.")
    qtbot.waitUntil(lambda: not compare.controller.busy, timeout=REPLY_MS)
    for column, view in zip(compare.controller.columns, compare.views):
        assert column.state == "done", column.message
        reply = [i for i in column.session.messages.items() if i.role == "assistant"][-1]
        assert reply.content and reply.stats["completion_tokens"] > 0
        numbers = [view.stats.itemAt(r, view.stats.ItemRole.FieldRole).widget().text()
                   for r in range(view.stats.rowCount())]
        assert any(n.endswith("tok/s") for n in numbers) and "Failed" not in view.status.text()

    qtbot.keyClick(window, Qt.Key.Key_1, CTRL)
    assert window.pages.currentWidget() is page
    assert page.load_settings.current_path() == str(smollm2) and page.model_state.shown_is_loaded()
    loads: list = []
    window.engine.loaded.connect(lambda job, _info: loads.append(job))
    type_and_send(qtbot, page, "Thanks!")
    wait_reply(qtbot, window)
    assert loads == []  # answered by the model already loaded: no reload
    assert len(assistant_cards(window)) == 2 and assistant_cards(window)[1].item.content


def test_a_restart_brings_back_the_chat_its_alternatives_and_its_model(make_window, qtbot, smollm2):
    window, smollm2 = window_with(qtbot, make_window, smollm2)
    page = window.chat_page
    type_number(qtbot, page, "Max tokens", 8)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, window)
    click(qtbot, assistant_cards(window)[0], "Regenerate message")
    wait_reply(qtbot, window)
    replies = [c.item.content for c in assistant_cards(window)]
    window.close()
    assert shutdown(window)

    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    assert [c.item.content for c in user_cards(window)] == ["Hello"]
    card = assistant_cards(window)[0]
    assert card.item.content == replies[0] and named(card, "Alternative", QWidget).text() == "2/2"
    assert window.engine.info is None and page.load_settings.current_path() == str(smollm2)
    assert "not loaded" in page.load_settings.status.text()
    with qtbot.waitSignal(window.engine.loaded, timeout=60000) as loaded:
        type_and_send(qtbot, page, "Again")
    assert loaded.args[1].path == str(smollm2)
    wait_reply(qtbot, window)
    assert [c.item.content for c in user_cards(window)] == ["Hello", "Again"]
    reply = assistant_cards(window)[1].item
    assert reply.content and not reply.error
    assert reply.model == loaded.args[1].name  # sent while the model loaded, still named after it
    assert ConversationStore(paths.database_path()).messages(window.chat_page.chat_id)[-1].model == reply.model


def test_a_full_disk_during_a_compare_run_and_a_chat_reply_then_retry_saves_both(
        make_window, qtbot, scripted_model):
    window, scripted_model = window_with(qtbot, make_window, scripted_model)
    page = window.chat_page
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    compare = window.compare_page
    click(qtbot, compare, "New comparison")
    qtbot.keyClick(window, Qt.Key.Key_1, CTRL)

    disk = FullDisk(window.store.store)
    disk.fill()
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, window)
    assert page.save_banner.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    type_and_send(qtbot, compare, "Hello")
    qtbot.waitUntil(lambda: not compare.controller.busy, timeout=REPLY_MS)
    assert all(c.state == "done" for c in compare.controller.columns)
    assert compare.save_banner.isVisible()

    disk.free()
    click(qtbot, compare, "Retry saving")
    on_disk = ConversationStore(paths.database_path())
    chat = [(m.role, m.content, m.complete) for m in on_disk.messages(page.chat_id)]
    assert chat == [("user", "Hello", True), ("assistant", " Hello world", True)]
    for column in compare.controller.columns:
        saved = [(m.role, m.content, m.complete) for m in on_disk.messages(column.record.chat_id)]
        assert saved == [("user", "Hello", True), ("assistant", " Hello world", True)]
    on_disk.close()
    QApplication.processEvents()
    assert not compare.save_banner.isVisible() and not page.save_banner.isVisible()
    window.close()  # nothing waits in memory: quitting asks nothing
    assert window.store.pending == 0



def test_a_comparison_is_not_deleted_while_its_messages_wait_for_the_disk(make_window, qtbot, scripted_model):
    (scripted_model,) = in_library(scripted_model)
    window = make_window()
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    compare = window.compare_page
    click(qtbot, compare, "New comparison")
    disk = FullDisk(window.store.store)
    disk.fill()
    type_and_send(qtbot, compare, "Hello")
    qtbot.waitUntil(lambda: not compare.controller.busy, timeout=REPLY_MS)
    disk.free()
    compare.controller.delete()  # what Delete does once confirmed
    assert compare.controller.comparison is not None and "waiting to be saved" in compare.plan_line.text()
    click(qtbot, compare, "Retry saving")
    assert window.store.pending == 0
    compare.controller.delete()
    assert compare.controller.comparison is None


def test_a_file_opened_from_elsewhere_and_its_chat_come_back_after_a_restart(make_window, qtbot, scripted_model):
    window = make_window()
    page = window.chat_page
    window.first_run.open_file.emit(str(scripted_model))  # "Open a GGUF file you already have…", file chosen
    qtbot.waitUntil(lambda: window.engine.info is not None and not page.session.loading, timeout=60000)
    type_and_send(qtbot, page, "Hello")
    wait_reply(qtbot, window)
    window.close()
    assert shutdown(window)

    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    assert page.load_settings.current_path() == str(scripted_model)  # still in the library, and chosen
    assert [c.item.content for c in user_cards(window)] == ["Hello"]
    with qtbot.waitSignal(window.engine.loaded, timeout=60000):
        type_and_send(qtbot, page, "Again")
    wait_reply(qtbot, window)
    assert assistant_cards(window)[-1].item.content == " Hello world"


def test_the_drafts_tokens_as_you_type_and_the_sampling_chart_of_its_next_token(make_window, qtbot, smollm2):
    window, smollm2 = window_with(qtbot, make_window, smollm2)
    page = window.chat_page
    click(qtbot, page, "Show the message's tokens")
    box = named(page, "Message", QWidget)
    qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(box, "Hello there")
    strip = page.composer.token_strip
    qtbot.waitUntil(lambda: b"".join(p for _i, p, _s in strip.tokens) == b"Hello there", timeout=10000)
    assert named(page, "Message tokens count", QWidget).text().startswith(f"{len(strip.tokens)} tokens")
    assert "id " in strip.tip(0) and "·there" in strip.text.toHtml()  # the space before "there" is visible
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # a newline is a token too
    qtbot.keyClicks(box, "friend")
    qtbot.waitUntil(lambda: b"".join(p for _i, p, _s in strip.tokens) == b"Hello there\nfriend", timeout=10000)
    assert "↵" in strip.text.toPlainText()

    click(qtbot, page, "Sampling chart for the next token")
    chart = page.token_views.chart
    qtbot.waitUntil(lambda: len(chart.candidates) == 20, timeout=30000)
    assert len(chart.bars.bars) == 21  # the 20 best and every other token
    type_number(qtbot, chart, "Top-k", 3)  # the bars follow the settings at once
    assert [b.cut_by for b in chart.bars.bars[3:]] == ["top-k"] * 18
    assert sum(b.after for b in chart.bars.bars[:3]) == pytest.approx(1.0)
    chart.close()
    assert page.composer.text() == "Hello there\nfriend"  # the draft is still there to send


def test_a_replys_token_charted_with_the_models_top_20_and_a_messages_tokens(make_window, qtbot, smollm2):
    window, smollm2 = window_with(qtbot, make_window, smollm2)
    page = window.chat_page
    type_number(qtbot, page, "Max tokens", 8)
    type_and_send(qtbot, page, "Name a colour.")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[0]
    click(qtbot, card, "Tokens message")
    card.tokens.select(2)
    click(qtbot, card, "Sampling chart…")
    chart = card.tokens.chart
    kept = [c.id for c in card.tokens.steps[2].top]
    qtbot.waitUntil(lambda: len(chart.candidates) == 20, timeout=30000)
    assert [c.id for c in chart.candidates[:5]] == kept  # the model's own top 5, and 15 more
    chart.close()

    question = user_cards(window)[0]
    question.body.customContextMenuRequested.emit(question.body.rect().center())
    menu = QApplication.activePopupWidget()
    next(a for a in menu.actions() if a.text() == "Show tokens").trigger()
    dialog = page.token_views.dialog
    qtbot.waitUntil(lambda: bool(dialog.strip.tokens), timeout=10000)
    assert b"".join(p for _i, p, _s in dialog.strip.tokens) == b"Name a colour."


def test_the_token_views_follow_a_load_and_an_eject_without_an_edit(make_window, qtbot, smollm2):
    (smollm2,) = in_library(smollm2)
    window = make_window()
    settle(qtbot, window)
    page = window.chat_page
    click(qtbot, page, "Show the message's tokens")
    box = named(page, "Message", QWidget)
    qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(box, "Hello there")
    count = named(page, "Message tokens count", QWidget)
    qtbot.waitUntil(lambda: count.text().startswith("Load a model"), timeout=10000)
    strip = page.composer.token_strip
    choose_model(qtbot, window, smollm2)  # the draft is not touched: its tokens come with the model
    qtbot.waitUntil(lambda: b"".join(p for _i, p, _s in strip.tokens) == b"Hello there", timeout=10000)
    assert count.text().startswith(f"{len(strip.tokens)} tokens")

    type_number(qtbot, page, "Max tokens", 2)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    wait_reply(qtbot, window)
    question = user_cards(window)[0]
    question.body.customContextMenuRequested.emit(question.body.rect().center())
    next(a for a in QApplication.activePopupWidget().actions() if a.text() == "Show tokens").trigger()
    dialog = page.token_views.dialog
    qtbot.waitUntil(lambda: bool(dialog.strip.tokens), timeout=10000)

    qtbot.keyClicks(box, "Again")
    qtbot.waitUntil(lambda: b"".join(p for _i, p, _s in strip.tokens) == b"Again", timeout=10000)
    click(qtbot, page, "Eject model")  # both views say so at once, and come back with the next load
    qtbot.waitUntil(lambda: count.text().startswith("Load a model") and not strip.tokens, timeout=10000)
    qtbot.waitUntil(lambda: dialog.strip.count.text().startswith("Load a model"), timeout=10000)
    choose_model(qtbot, window, smollm2)
    qtbot.waitUntil(lambda: b"".join(p for _i, p, _s in strip.tokens) == b"Again", timeout=10000)
    qtbot.waitUntil(lambda: b"".join(p for _i, p, _s in dialog.strip.tokens) == b"Hello there", timeout=10000)


def test_the_sampling_chart_follows_the_side_panels_sliders_both_ways_and_fits_the_screen(
        make_window, qtbot, smollm2):
    window, smollm2 = window_with(qtbot, make_window, smollm2)
    page = window.chat_page
    type_number(qtbot, page, "Top-k", 30)  # the chat's settings before the chart opens
    box = named(page, "Message", QWidget)
    qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(box, "Name a colour.")
    click(qtbot, page, "Show the message's tokens")
    click(qtbot, page, "Sampling chart for the next token")
    chart = page.token_views.chart
    qtbot.waitUntil(lambda: len(chart.candidates) == 20, timeout=30000)
    assert named(chart, "Top-k", QSpinBox).value() == 30  # it opens with the chat's settings
    assert "side panel" in named(chart, "How the chart's settings are tied to the chat's", QWidget).text()

    slider = next(s for s in page.side.findChildren(QSlider) if s.accessibleName() == "Temperature")
    before = [b.after for b in chart.bars.bars]
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_End)  # temperature 2: the bars flatten at once
    assert named(chart, "Temperature", QDoubleSpinBox).value() == pytest.approx(2.0)
    assert chart.bars.bars[0].after < before[0]

    type_number(qtbot, chart, "Top-k", 3)  # and the chart's own numbers are the chat's
    assert [b.cut_by for b in chart.bars.bars[3:]] == ["top-k"] * 18
    assert page.session.sampling.top_k == 3 and page.sampling.spins["top_k"].value() == 3
    assert page.session.sampling.temperature == pytest.approx(2.0)

    screen = chart.screen().availableGeometry()  # every row of settings on the screen, the bars scroll
    assert chart.frameGeometry().height() <= screen.height()
    penalty = named(chart, "Repeat penalty", QDoubleSpinBox)
    bottom = penalty.mapTo(chart, penalty.rect().bottomLeft()).y()
    assert 0 < bottom <= chart.height() and chart.mapToGlobal(penalty.rect().bottomLeft()).y() <= screen.bottom()
    scrolled = chart.bars_area.verticalScrollBar().maximum() > 0
    assert not scrolled or chart.frameGeometry().height() >= screen.height() - 60  # bars scroll only when short


def test_a_one_token_reply_says_1_token_in_its_statistics_and_its_tokens(make_window, qtbot, smollm2):
    window, smollm2 = window_with(qtbot, make_window, smollm2)
    page = window.chat_page
    type_number(qtbot, page, "Max tokens", 1)
    type_and_send(qtbot, page, "Say yes.")
    wait_reply(qtbot, window)
    card = assistant_cards(window)[0]
    stats = named(card, "Message statistics", QWidget).text()
    assert " · 1 token · " in stats and "1 tokens" not in stats
    click(qtbot, card, "Tokens message")
    assert card.tokens.legend.text().startswith("1 token · ")
